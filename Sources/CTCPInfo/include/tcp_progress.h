#ifndef WARREN_TCP_PROGRESS_H
#define WARREN_TCP_PROGRESS_H
#include <stdint.h>

/// The bytes of data the peer has acknowledged on a TCP connection, read from the
/// answer to getsockopt(TCP_INFO) (Linux 4.1 and later; 0 where the kernel does not
/// report it). glibc's own `struct tcp_info` stops before this field, so the kernel's
/// layout (linux/tcp.h) is read here, where the compiler checks the offset.
uint64_t warren_tcp_bytes_acked(const void *tcp_info, unsigned length);

/// The size of the kernel's `struct tcp_info` this was built against.
unsigned warren_tcp_info_size(void);

#endif
