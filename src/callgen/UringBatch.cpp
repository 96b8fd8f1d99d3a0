#include "callgen/UringBatch.hpp"

#include <liburing.h>

#include <cerrno>
#include <cstring>

namespace callrec::callgen {

UringBatch::UringBatch(unsigned capacity)
    : ring_(std::make_unique<io_uring>()), packets_(capacity) {}

core::Result<std::unique_ptr<UringBatch>, std::string> UringBatch::Open(unsigned capacity) {
  std::unique_ptr<UringBatch> batch(new UringBatch(capacity));
  // SUBMIT_ALL (Linux 5.18): a packet refused at submission does not hold
  // back the ones after it. Older kernels get a plain ring.
  io_uring_params params{};
  params.flags = IORING_SETUP_SUBMIT_ALL;
  int error = io_uring_queue_init_params(capacity, batch->ring_.get(), &params);
  if (error == -EINVAL) error = io_uring_queue_init(capacity, batch->ring_.get(), 0);
  if (error < 0) return std::string("io_uring_queue_init: ") + std::strerror(-error);
  batch->ring_open_ = true;
  return batch;
}

UringBatch::~UringBatch() {
  if (ring_open_) io_uring_queue_exit(ring_.get());
}

std::span<std::uint8_t, UringBatch::kPacketCapacity> UringBatch::Add(
    int fd, const UdpAddress* destination) {
  Packet& packet = packets_[count_++];
  packet.fd = fd;
  packet.connected = destination == nullptr;
  packet.size = 0;
  packet.result = 0;
  if (destination != nullptr) {
    packet.message = msghdr{};
    packet.message.msg_name = const_cast<sockaddr_storage*>(&destination->storage);
    packet.message.msg_namelen = destination->length;
    packet.message.msg_iov = &packet.vector;
    packet.message.msg_iovlen = 1;
  }
  return packet.data;
}

void UringBatch::SetLastSize(std::size_t size) {
  if (size == 0) {
    --count_;
    return;
  }
  packets_[count_ - 1].size = size;
}

void UringBatch::Flush() {
  std::size_t queued = 0;
  for (std::size_t i = 0; i < count_; ++i) {
    Packet& packet = packets_[i];
    packet.vector = iovec{packet.data.data(), packet.size};
    io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
    // The ring has one entry per packet slot and every flush reaps all of
    // them, so there is always room.
    // MSG_DONTWAIT: a full socket buffer is an error now, as with the
    // per-packet path, not a request parked until the socket drains.
    if (packet.connected) {
      io_uring_prep_send(sqe, packet.fd, packet.data.data(), packet.size, MSG_DONTWAIT);
    } else {
      io_uring_prep_sendmsg(sqe, packet.fd, &packet.message, MSG_DONTWAIT);
    }
    io_uring_sqe_set_data64(sqe, i);
    ++queued;
  }
  if (queued == 0) return;
  // One kernel entry submits the batch and waits for every result (a UDP
  // send completes inline, so the results are there when it returns).
  int ret = io_uring_submit_and_wait(ring_.get(), static_cast<unsigned>(queued));
  std::size_t submitted = ret > 0 ? static_cast<std::size_t>(ret) : 0;
  for (int tries = 0; submitted < queued && tries < 3; ++tries) {
    ret = io_uring_submit(ring_.get());
    if (ret > 0) submitted += static_cast<std::size_t>(ret);
  }
  for (std::size_t i = 0; i < count_; ++i) packets_[i].result = -EIO;  // until a result comes
  for (std::size_t reaped = 0; reaped < submitted;) {
    io_uring_cqe* cqe = nullptr;
    const int error = io_uring_wait_cqe(ring_.get(), &cqe);
    if (error == -EINTR) continue;
    if (error < 0) return;  // the ring failed: what did not complete stays -EIO
    const auto index = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
    if (index < count_) packets_[index].result = cqe->res == 0 ? -EIO : cqe->res;
    io_uring_cqe_seen(ring_.get(), cqe);
    ++reaped;
  }
}

}  // namespace callrec::callgen
