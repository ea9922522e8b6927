import CHeap

/// How much freed memory glibc keeps before giving it back to the kernel, for the commands that
/// move torrent data.
///
/// By default glibc trims its heap once 128 KiB sit free at the top. A download allocates and
/// frees megabytes of 16 KiB blocks a second, so the same pages were given back and faulted in
/// again without end: 80,000–150,000 page faults per GiB received. Keeping up to 4 MiB (and
/// serving allocations up to 1 MiB from the heap) brings that to 20,000–40,000 (`perf stat -e
/// page-faults`). 8 MiB gave ~5,000, but peak memory with 20 fast peers reached 64 MiB, the
/// budget (`Benchmarks/memory_swarm.py`); with 4 MiB it stays at 58–60 MiB.
enum HeapTrimming {
    static func keepFreedMemory() {
        shoal_heap_thresholds(4 << 20, 1 << 20)
    }
}
