// Forwarding the signals ward itself receives (Ctrl-C on its terminal, a
// `kill` from the user) to the sandbox's first process.
#pragma once

#include <memory>
#include <vector>

#include "sentry/kernel/fiber.h"
#include "sentry/kernel/scheduler.h"
#include "ward/result.h"
#include "ward/unique_fd.h"

namespace ward::kernel {

class Kernel;

class HostSignalForwarder {
 public:
  // Blocks `signals` in ward and reads them from a signalfd on a fiber of
  // the scheduler, sending each to the first process as a signal from
  // outside the sandbox.
  static Result<std::unique_ptr<HostSignalForwarder>> start(Kernel& kernel,
                                                            const std::vector<int>& signals);
  ~HostSignalForwarder();

 private:
  HostSignalForwarder(Kernel& kernel, UniqueFd signal_fd);
  void run();

  Kernel& kernel_;
  UniqueFd signal_fd_;
  std::unique_ptr<HostFdWatch> watch_;
  std::unique_ptr<Fiber> fiber_;
};

}  // namespace ward::kernel
