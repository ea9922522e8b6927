// glibc's mallopt, which Swift's Glibc module does not show (it lives in <malloc.h>).
#ifndef SHOAL_CHEAP_SHIM_H
#define SHOAL_CHEAP_SHIM_H

#include <malloc.h>

static inline void shoal_malloc_settings(int trim_bytes, int mmap_bytes, int arenas) {
    mallopt(M_TRIM_THRESHOLD, trim_bytes);
    mallopt(M_MMAP_THRESHOLD, mmap_bytes);
    mallopt(M_ARENA_MAX, arenas);
}

#endif
