#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "callgen/RtpPacketizer.hpp"
#include "callgen/RtpSocket.hpp"
#include "core/Result.hpp"
#include "srtp/SrtpStream.hpp"

struct io_uring;  // liburing, private to UringBatch.cpp

namespace callrec::callgen {

// UDP datagrams to many sockets sent with one kernel entry: each packet is an
// IORING_OP_SENDMSG (the socket is the stream's own, so the source port the
// offer named is kept), and Flush submits them all and reaps their results
// with one io_uring_enter. Used by the media thread only.
class UringBatch {
 public:
  static constexpr std::size_t kPacketCapacity = kMaxRtpPacket + srtp::kMaxTrailer;

  // A ring for up to `capacity` packets a flush; the reason when the kernel
  // refuses io_uring (old kernel, seccomp, kernel.io_uring_disabled).
  static core::Result<std::unique_ptr<UringBatch>, std::string> Open(unsigned capacity);
  ~UringBatch();
  UringBatch(const UringBatch&) = delete;
  UringBatch& operator=(const UringBatch&) = delete;

  bool full() const { return count_ == packets_.size(); }
  std::size_t size() const { return count_; }
  // The buffer of the next packet, to `destination` from `fd` (null: the
  // socket is connected); `destination` must stay valid until Flush returns.
  // Not when full().
  std::span<std::uint8_t, kPacketCapacity> Add(int fd, const UdpAddress* destination);
  // The last added packet is `size` bytes (0: drop it, nothing is sent).
  void SetLastSize(std::size_t size);
  // Sends every packet added since the last flush, in the order added, and
  // waits for their results: result(i) is the bytes sent or -errno.
  void Flush();
  int result(std::size_t index) const { return packets_[index].result; }
  // Forgets the flushed packets.
  void Clear() { count_ = 0; }

 private:
  struct Packet {
    std::array<std::uint8_t, kPacketCapacity> data;
    iovec vector{};
    msghdr message{};
    int fd = -1;
    bool connected = false;
    std::size_t size = 0;
    int result = 0;
  };
  explicit UringBatch(unsigned capacity);
  bool ring_open_ = false;

  std::unique_ptr<io_uring> ring_;
  std::vector<Packet> packets_;
  std::size_t count_ = 0;
};

}  // namespace callrec::callgen
