#include "sentry/kernel/host_signals.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal_send.h"

namespace ward::kernel {

Result<std::unique_ptr<HostSignalForwarder>> HostSignalForwarder::start(
    Kernel& kernel, const std::vector<int>& signals) {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : signals) {
    sigaddset(&set, signal);
  }
  if (pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) {
    return Errno{errno};
  }
  UniqueFd signal_fd(signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!signal_fd.valid()) {
    return Errno{errno};
  }
  std::unique_ptr<HostSignalForwarder> forwarder(
      new HostSignalForwarder(kernel, std::move(signal_fd)));
  forwarder->watch_ = std::make_unique<HostFdWatch>(kernel.scheduler(),
                                                    forwarder->signal_fd_.get());
  forwarder->fiber_ = std::make_unique<Fiber>([raw = forwarder.get()] { raw->run(); });
  kernel.scheduler().make_ready(forwarder->fiber_.get());
  return forwarder;
}

HostSignalForwarder::HostSignalForwarder(Kernel& kernel, UniqueFd signal_fd)
    : kernel_(kernel), signal_fd_(std::move(signal_fd)) {}

HostSignalForwarder::~HostSignalForwarder() {
  // The fiber is parked on the watch's queue; destroying it unwinds it.
  fiber_.reset();
  watch_.reset();
}

void HostSignalForwarder::run() {
  for (;;) {
    signalfd_siginfo received{};
    ssize_t bytes = ::read(signal_fd_.get(), &received, sizeof(received));
    if (bytes != static_cast<ssize_t>(sizeof(received))) {
      Waiter waiter(kernel_.scheduler());
      waiter.watch(watch_->queue());
      waiter.wait();
      continue;
    }
    ThreadGroup* init = kernel_.init();
    if (init == nullptr || init->finished()) {
      continue;
    }
    int signal = static_cast<int>(received.ssi_signo);
    spdlog::info("sentry: forwarding signal {} to the first process", signal);
    siginfo_t info{};
    info.si_signo = signal;
    info.si_code = SI_USER;  // sent from outside the sandbox: pid 0, as Linux shows it
    send_signal_to_group(*init, info, SignalSource::kOutside);
  }
}

}  // namespace ward::kernel
