// Fake guest memory for the unit tests of the --strace decoders.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "syscalls/strace.h"

namespace ward::syscalls {

// Guest memory for the decoders: strings and words stored at exact
// addresses, and byte regions readable from any address inside them.
// Every other address is unreadable.
class FakeGuestMemory {
 public:
  void put_string(uint64_t addr, std::string text) { strings_[addr] = std::move(text); }

  // Stores a NULL-terminated pointer array at addr.
  void put_pointer_array(uint64_t addr, const std::vector<uint64_t>& pointers) {
    for (size_t i = 0; i < pointers.size(); ++i) {
      words_[addr + i * 8] = pointers[i];
    }
    words_[addr + pointers.size() * 8] = 0;
  }

  void put_word(uint64_t addr, uint64_t value) { words_[addr] = value; }

  // Stores raw bytes at addr, readable through read_bytes from any address
  // inside them.
  void put_bytes(uint64_t addr, std::string bytes) { regions_[addr] = std::move(bytes); }

  template <typename T>
  void put_struct(uint64_t addr, const T& value) {
    put_bytes(addr, std::string(reinterpret_cast<const char*>(&value), sizeof(T)));
  }

  GuestMemoryReader reader() const {
    return GuestMemoryReader{
        .read_string = [this](GuestAddr addr, size_t max_bytes) -> std::optional<std::string> {
          const auto it = strings_.find(addr.value());
          if (it == strings_.end()) {
            return std::nullopt;
          }
          const std::string& text = it->second;
          return text.substr(0, std::min(text.find('\0'), max_bytes));
        },
        .read_word = [this](GuestAddr addr) -> std::optional<uint64_t> {
          const auto it = words_.find(addr.value());
          if (it == words_.end()) {
            return std::nullopt;
          }
          return it->second;
        },
        .read_bytes = [this](GuestAddr addr, size_t size) -> std::optional<std::string> {
          auto it = regions_.upper_bound(addr.value());
          if (it == regions_.begin()) {
            return std::nullopt;
          }
          --it;
          const uint64_t offset = addr.value() - it->first;
          if (offset + size > it->second.size()) {
            return std::nullopt;
          }
          return it->second.substr(offset, size);
        },
    };
  }

 private:
  std::map<uint64_t, std::string> strings_;
  std::map<uint64_t, uint64_t> words_;
  std::map<uint64_t, std::string> regions_;
};

}  // namespace ward::syscalls
