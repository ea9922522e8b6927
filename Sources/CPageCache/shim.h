// preadv2 with RWF_NOWAIT (Linux 4.14+): reads only what is already in the page cache. Glibc
// declares preadv2 only under _GNU_SOURCE, which Swift's Glibc module is not built with.
#ifndef SHOAL_CPAGECACHE_SHIM_H
#define SHOAL_CPAGECACHE_SHIM_H

#include <sys/types.h>
#include <sys/uio.h>
#include <sys/vfs.h>

ssize_t preadv2(int fd, const struct iovec *iov, int iovcnt, off_t offset, int flags);

/// Bytes read (possibly fewer than asked), or -1 with errno EAGAIN when the data is not cached.
static inline ssize_t shoal_pread_if_cached(int fd, void *buffer, size_t length, off_t offset) {
    struct iovec vector = { buffer, length };
    return preadv2(fd, &vector, 1, offset, 0x00000008 /* RWF_NOWAIT */);
}

/// Whether the file lives in memory (tmpfs, ramfs), where a plain read never waits for a disk.
/// tmpfs refuses RWF_NOWAIT (EOPNOTSUPP) though its reads never block.
static inline int shoal_memory_backed(int fd) {
    struct statfs info;
    if (fstatfs(fd, &info) != 0) return 0;
    return info.f_type == 0x01021994 /* TMPFS_MAGIC */ || info.f_type == 0x858458f6 /* RAMFS_MAGIC */;
}

#endif
