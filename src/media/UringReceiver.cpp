#include "media/UringReceiver.hpp"

#include <liburing.h>
#include <netinet/in.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

namespace callrec::media {
namespace {

// Enough for 2,500 datagrams waiting at one Poll (half a million packets per
// second polled every 5 ms); more just wait in their sockets for the next.
constexpr unsigned kBuffers = 4096;  // a power of two, at most 32,768
constexpr unsigned kBufferBytes = 2048;
constexpr unsigned kBufferGroup = 1;
constexpr unsigned kQueueEntries = 1024;
constexpr int kMaxRounds = 64;
// Room for an IPv6 sender, rounded up so that the control message after it (at
// io_uring_recvmsg_out + name) is aligned for cmsghdr.
constexpr unsigned kNameBytes = (sizeof(sockaddr_in6) + 7) / 8 * 8;
static_assert((sizeof(io_uring_recvmsg_out) + kNameBytes) % alignof(cmsghdr) == 0);
static_assert(kBufferBytes % alignof(cmsghdr) == 0);
constexpr std::uint64_t kCancelKey = ~std::uint64_t{0};  // the cancels' own completions

}  // namespace

struct UringReceiver::Ring {
  io_uring ring{};
  bool initialised = false;
  io_uring_buf_ring* buffers = nullptr;
  std::size_t buffers_bytes = 0;
  // Not value-initialised: a page is touched only once the kernel fills it.
  std::unique_ptr<std::uint8_t[]> memory{new std::uint8_t[kBuffers * kBufferBytes]};
  // The template every multishot recvmsg copies: room for an IPv6 sender and
  // one SO_TIMESTAMPNS control message.
  msghdr header{};

  ~Ring() {
    if (initialised) io_uring_queue_exit(&ring);
    if (buffers) munmap(buffers, buffers_bytes);
  }

  void Give(unsigned short id, int offset) {
    io_uring_buf_ring_add(buffers, memory.get() + std::size_t{id} * kBufferBytes, kBufferBytes, id,
                          io_uring_buf_ring_mask(kBuffers), offset);
  }
};

core::Result<std::unique_ptr<UringReceiver>, std::string> UringReceiver::Create() {
  auto ring = std::make_unique<Ring>();
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_CQSIZE;
  params.cq_entries = kBuffers * 2;
  if (int rc = io_uring_queue_init_params(kQueueEntries, &ring->ring, &params); rc < 0) {
    return std::string("io_uring_setup: ") + std::strerror(-rc);
  }
  ring->initialised = true;
  ring->buffers_bytes = sizeof(io_uring_buf) * kBuffers;
  void* mapped = mmap(nullptr, ring->buffers_bytes, PROT_READ | PROT_WRITE,
                      MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (mapped == MAP_FAILED) return std::string("mmap: ") + std::strerror(errno);
  ring->buffers = static_cast<io_uring_buf_ring*>(mapped);
  io_uring_buf_ring_init(ring->buffers);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<std::uintptr_t>(ring->buffers);
  reg.ring_entries = kBuffers;
  reg.bgid = kBufferGroup;
  if (int rc = io_uring_register_buf_ring(&ring->ring, &reg, 0); rc < 0) {
    return std::string("io_uring_register_buf_ring: ") + std::strerror(-rc);
  }
  for (unsigned id = 0; id < kBuffers; ++id) ring->Give(static_cast<unsigned short>(id), id);
  io_uring_buf_ring_advance(ring->buffers, kBuffers);
  ring->header.msg_namelen = kNameBytes;
  ring->header.msg_controllen = CMSG_SPACE(sizeof(timespec));
  return std::unique_ptr<UringReceiver>(new UringReceiver(std::move(ring)));
}

UringReceiver::UringReceiver(std::unique_ptr<Ring> ring) : ring_(std::move(ring)) {}

UringReceiver::~UringReceiver() = default;

core::Result<bool, std::string> UringReceiver::Add(std::uint64_t key, int fd) {
  const int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
    return std::string("SO_TIMESTAMPNS: ") + std::strerror(errno);
  }
  Socket& socket = sockets_[key];
  socket.fd = fd;
  if (!Arm(key, socket)) {
    sockets_.erase(key);
    return std::string("io_uring: no submission entry");
  }
  io_uring_submit(&ring_->ring);
  return true;
}

bool UringReceiver::Arm(std::uint64_t key, Socket& socket) {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
  if (!sqe) {
    io_uring_submit(&ring_->ring);
    sqe = io_uring_get_sqe(&ring_->ring);
    if (!sqe) return false;
  }
  io_uring_prep_recvmsg_multishot(sqe, socket.fd, &ring_->header, 0);
  sqe->flags |= IOSQE_BUFFER_SELECT;
  sqe->buf_group = kBufferGroup;
  io_uring_sqe_set_data64(sqe, key);
  socket.armed = true;
  return true;
}

void UringReceiver::Remove(std::uint64_t key, std::function<void()> released) {
  auto it = sockets_.find(key);
  if (it == sockets_.end()) return released();
  Socket& socket = it->second;
  socket.released = std::move(released);
  socket.removing = true;
  if (!socket.armed) {
    auto done = std::move(socket.released);
    sockets_.erase(it);
    return done();
  }
  io_uring_sqe* sqe = io_uring_get_sqe(&ring_->ring);
  if (!sqe) {
    io_uring_submit(&ring_->ring);
    sqe = io_uring_get_sqe(&ring_->ring);
  }
  if (sqe) {
    io_uring_prep_cancel64(sqe, key, 0);
    io_uring_sqe_set_data64(sqe, kCancelKey);
  }
  io_uring_submit(&ring_->ring);
}

std::size_t UringReceiver::Poll(const Handler& handler) {
  std::size_t total = 0;
  // Until a round finds nothing: the kernel hands out a bounded run of one
  // socket's datagrams per turn (fairness) and queues the rest for the next
  // turn, and a socket out of buffers is armed again once its datagrams were
  // handed out. Bounded, so a flood cannot hold the media thread.
  for (int round = 0; round < kMaxRounds; ++round) {
    io_uring_submit_and_get_events(&ring_->ring);
    bool rearm = false;
    const std::size_t completions = Reap(handler, total, rearm);
    if (rearm) {
      for (auto& [key, socket] : sockets_) {
        if (!socket.armed && !socket.removing) Arm(key, socket);
      }
    }
    if (completions == 0 && !rearm) break;
  }
  io_uring_submit(&ring_->ring);
  return total;
}

std::size_t UringReceiver::Reap(const Handler& handler, std::size_t& handed, bool& rearm) {
  // The kernel's receive times are CLOCK_REALTIME; the timeline is steady.
  timespec real{};
  clock_gettime(CLOCK_REALTIME, &real);
  const auto steady_now = Clock::now();
  const std::int64_t real_now_ns = std::int64_t{real.tv_sec} * 1'000'000'000 + real.tv_nsec;
  std::vector<std::function<void()>> released;
  unsigned head = 0;
  unsigned seen = 0;
  unsigned given = 0;
  io_uring_cqe* cqe = nullptr;
  io_uring_for_each_cqe(&ring_->ring, head, cqe) {
    ++seen;
    const std::uint64_t key = cqe->user_data;
    if (key == kCancelKey) continue;
    if (cqe->flags & IORING_CQE_F_BUFFER) {
      const auto id = static_cast<unsigned short>(cqe->flags >> IORING_CQE_BUFFER_SHIFT);
      auto it = sockets_.find(key);
      if (cqe->res > 0 && it != sockets_.end() && !it->second.removing) {
        std::uint8_t* buffer = ring_->memory.get() + std::size_t{id} * kBufferBytes;
        io_uring_recvmsg_out* out = io_uring_recvmsg_validate(buffer, cqe->res, &ring_->header);
        if (out && !(out->flags & MSG_TRUNC)) {
          sockaddr_storage from{};
          std::memcpy(&from, io_uring_recvmsg_name(out),
                      std::min<std::size_t>(out->namelen, sizeof(sockaddr_in6)));
          auto arrival = steady_now;
          for (cmsghdr* c = io_uring_recvmsg_cmsg_firsthdr(out, &ring_->header); c;
               c = io_uring_recvmsg_cmsg_nexthdr(out, &ring_->header, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS) continue;
            timespec at{};
            std::memcpy(&at, CMSG_DATA(c), sizeof at);
            const std::int64_t ns = std::int64_t{at.tv_sec} * 1'000'000'000 + at.tv_nsec;
            // Never in the future (a clock step): then it is now.
            if (ns <= real_now_ns) arrival -= std::chrono::nanoseconds(real_now_ns - ns);
          }
          auto* payload = static_cast<std::uint8_t*>(io_uring_recvmsg_payload(out, &ring_->header));
          const unsigned length = io_uring_recvmsg_payload_length(out, cqe->res, &ring_->header);
          ++handed;
          handler(key, from, std::span(payload, length), arrival);
        }
      }
      ring_->Give(id, static_cast<int>(given++));
    }
    if (!(cqe->flags & IORING_CQE_F_MORE)) {
      auto it = sockets_.find(key);
      if (it != sockets_.end()) {
        it->second.armed = false;
        if (it->second.removing) {
          released.push_back(std::move(it->second.released));
          sockets_.erase(it);
        } else {
          rearm = true;  // out of buffers (ENOBUFS) or a socket error: armed again
        }
      }
    }
  }
  io_uring_buf_ring_advance(ring_->buffers, static_cast<int>(given));
  io_uring_cq_advance(&ring_->ring, seen);
  for (auto& done : released) {
    if (done) done();
  }
  return seen;
}

}  // namespace callrec::media
