//! glibc's allocator, told to keep one arena and to give back its free memory before a fold.
//!
//! By default glibc gives threads that allocate at the same time their own arena, up to eight
//! per core, and an arena keeps the memory it once held. `lister` parses on the runtime's
//! threads and runs SQLite on the blocking pool, so over a long listing more and more arenas
//! reach their peak: a run of 1,000,000 origins peaked 28 % above a run of 100,000. With one
//! arena the two peaks were within 6 %, and the speed was the same (see
//! `docs/performance-log.md`).
//!
//! A walk also leaves free memory in the heap: the pages it held while commits waited. glibc
//! keeps most of it, and a fold's sort then came on top of it. Handing it back before each
//! SQLite fold (`malloc_trim`, about 0.4 ms) took the fold's peak down by about 3 MiB.

/// Keeps glibc's allocator to one arena. Call it first thing, before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn limit_arenas() {
    // SAFETY: `mallopt` only changes an allocator setting; it takes no pointer and is safe to
    // call at any time. It returns 0 when the setting is refused, which leaves the default.
    let _ = unsafe { libc::mallopt(libc::M_ARENA_MAX, 1) };
}

/// Other allocators keep their defaults.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn limit_arenas() {}

/// Hands the allocator's free memory back to the system (a run calls it before each SQLite
/// fold).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub(crate) fn release_free_memory() {
    // SAFETY: `malloc_trim` only returns free memory of glibc's heap to the system; it takes
    // no pointer and is safe to call at any time. Its result says whether it released any.
    let _ = unsafe { libc::malloc_trim(0) };
}

/// Other allocators keep their memory.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_free_memory() {}
