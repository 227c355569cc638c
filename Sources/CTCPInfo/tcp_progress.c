#include <stddef.h>
#include <string.h>
#include <linux/tcp.h>
#include "tcp_progress.h"

uint64_t warren_tcp_bytes_acked(const void *tcp_info, unsigned length) {
    struct tcp_info info;
    if (length < offsetof(struct tcp_info, tcpi_bytes_acked) + sizeof(info.tcpi_bytes_acked)) return 0;
    memcpy(&info.tcpi_bytes_acked, (const char *)tcp_info + offsetof(struct tcp_info, tcpi_bytes_acked),
           sizeof(info.tcpi_bytes_acked));
    return info.tcpi_bytes_acked;
}

unsigned warren_tcp_info_size(void) {
    return (unsigned)sizeof(struct tcp_info);
}
