import CHeap

/// How glibc's allocator holds memory, for the commands that move torrent data.
///
/// Trimming: by default glibc trims its heap once 128 KiB sit free at the top. A download
/// allocates and frees megabytes of 16 KiB blocks a second, so the same pages were given back
/// and faulted in again without end: 80,000–150,000 page faults per GiB received. Keeping up to
/// 4 MiB (and serving allocations up to 1 MiB from the heap) brings that to 20,000–40,000
/// (`perf stat -e page-faults`). 8 MiB gave ~5,000, but peak memory with 20 fast peers reached
/// 64 MiB, the budget (`Benchmarks/memory_swarm.py`).
///
/// Arenas: each thread that allocates may get its own arena (up to eight per core), each
/// keeping its own free memory; blocks are allocated on one thread and freed on another. Two
/// arenas took 4 MiB off that benchmark's peak (61.4/59.1 → 57.4/55.8 MiB) at the same speed.
enum MallocSettings {
    static func apply() {
        shoal_malloc_settings(4 << 20, 1 << 20, 2)
    }
}
