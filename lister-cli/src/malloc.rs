//! glibc's allocator, told to keep one arena.
//!
//! By default glibc gives threads that allocate at the same time their own arena, up to eight
//! per core, and an arena keeps the memory it once held. `lister` parses on the runtime's
//! threads and runs SQLite on the blocking pool, so over a long listing more and more arenas
//! reach their peak: a run of 1,000,000 origins peaked 28 % above a run of 100,000. With one
//! arena the two peaks were within 6 %, and the speed was the same (see
//! `docs/performance-log.md`).

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
