// Thin wrappers for system calls Swift cannot import directly (variadic syscall(2), GNU-only
// declarations, macros). No logic lives here.
#ifndef RILL_SYS_H
#define RILL_SYS_H
#include <stdint.h>
#include <time.h>
#include <sys/socket.h>

/// futex(FUTEX_WAIT) on a word in a shared mapping (not FUTEX_PRIVATE: other processes wake it).
/// Returns 0 when woken, -1 with errno (EAGAIN: the word had changed, ETIMEDOUT, EINTR).
int rill_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns);
/// futex(FUTEX_WAKE) of every waiter. Returns the number woken or -1 with errno.
int rill_futex_wake_all(uint32_t *word);
/// clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) until `deadline_ns`, restarting on EINTR
/// unless `*stop` becomes non-zero. Returns 0 or an errno value.
int rill_sleep_until(int64_t deadline_ns, const volatile int *stop);
/// CLOCK_MONOTONIC in ns.
int64_t rill_monotonic_ns(void);
/// CLOCK_REALTIME in ns.
int64_t rill_realtime_ns(void);

/// One datagram for rill_sendmmsg: `len` bytes at `base`.
typedef struct rill_datagram { const void *base; uint32_t len; } rill_datagram;
/// sendmmsg(2) of `count` datagrams to the connected socket `fd`, or to `dest` when non-NULL.
/// Returns the number sent or -1 with errno.
int rill_sendmmsg(int fd, const rill_datagram *datagrams, unsigned count,
                  const struct sockaddr *dest, socklen_t dest_len);
/// prctl(PR_SET_PDEATHSIG, sig): this process gets `sig` when its parent dies.
int rill_set_parent_death_signal(int sig);
/// pthread_setschedparam(self, SCHED_FIFO, priority): 0 or an errno value (EPERM without
/// CAP_SYS_NICE / RLIMIT_RTPRIO).
int rill_set_realtime(int priority);
/// prctl(PR_SET_NAME).
int rill_set_thread_name(const char *name);
#ifndef RILL_SYS_STOP_H
#define RILL_SYS_STOP_H
/// Non-zero once SIGTERM or SIGINT arrived (after rill_install_stop_handler) or rill_request_stop ran.
int rill_stop_is_requested(void);
/// Sets the stop flag from code.
void rill_request_stop(void);
/// Unblocks every signal (a parent may hand us a blocked mask), installs async-signal-safe
/// SIGTERM/SIGINT handlers that set the stop flag, and ignores SIGPIPE.
void rill_install_stop_handler(void);
/// posix_spawn(path, argv) with an empty signal mask and default signal dispositions in the child,
/// inheriting the environment and fds 0–2 (every other fd is closed). Returns 0 or an errno value.
int rill_spawn(int *pid, const char *path, char *const argv[]);
/// As rill_spawn, with the child's stdin and stdout connected to `stdin_fd` and `stdout_fd`
/// (event handlers: payload in, answer out). The child gets its own process group.
/// pipe2(fds, O_CLOEXEC) (a GNU extension Swift does not see).
int rill_pipe_cloexec(int fds[2]);
int rill_spawn_io(int *pid, const char *path, char *const argv[], int stdin_fd, int stdout_fd);
#endif
#endif

