// The open directories of the overlay: a merged listing of both layers,
// taken when a listing starts at offset 0 and kept by the file description
// until it goes back there, as Linux's overlay caches it. d_off cookies are
// positions in that listing, so they stay valid while the layers change.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "sentry/fs/overlay.h"
#include "sentry/vfs/directory_file.h"

namespace ward::vfs {

class OverlayDirectoryFile final : public DirectoryFile {
 public:
  OverlayDirectoryFile(VirtualDentry location, uint32_t flags, std::shared_ptr<OverlayInode> inode);

  Result<void> iterate_dir(const Caller& caller, DirentSink& sink) override;
  // The upper layer is in memory and the lower one is never written, so
  // there is nothing to flush, as Linux's ovl_dir_fsync finds for a lower
  // directory.
  Result<void> sync(bool) override { return ok(); }

 private:
  Result<void> take_snapshot(const Caller& caller);

  std::shared_ptr<OverlayInode> inode_;
  // ".", ".." and the merged entries.
  std::optional<std::vector<MergedEntry>> snapshot_;
};

// Every entry of the directory `directory` of one layer, "." and ".."
// included, read through the layer's own directory file.
Result<std::vector<MergedEntry>> read_layer_directory(const Caller& caller,
                                                      const std::shared_ptr<Inode>& directory);

}  // namespace ward::vfs
