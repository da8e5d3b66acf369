#define _GNU_SOURCE
#include "rill_sys.h"
#include <errno.h>
#include <linux/futex.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <fcntl.h>
#include <string.h>
#include <limits.h>

int rill_futex_wait(uint32_t *word, uint32_t expected, int64_t timeout_ns) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = (time_t)(timeout_ns / 1000000000);
        ts.tv_nsec = (long)(timeout_ns % 1000000000);
        tsp = &ts;
    }
    return (int)syscall(SYS_futex, word, FUTEX_WAIT, expected, tsp, NULL, 0);
}

int rill_futex_wake_all(uint32_t *word) {
    return (int)syscall(SYS_futex, word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

int rill_sleep_until(int64_t deadline_ns, const volatile int *stop) {
    struct timespec ts = {.tv_sec = (time_t)(deadline_ns / 1000000000), .tv_nsec = (long)(deadline_ns % 1000000000)};
    for (;;) {
        int rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        if (rc != EINTR) return rc;
        if (stop && *stop) return EINTR;
    }
}

static int64_t clock_ns(clockid_t clock) {
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
int64_t rill_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
int64_t rill_realtime_ns(void) { return clock_ns(CLOCK_REALTIME); }

int rill_sendmmsg(int fd, const rill_datagram *datagrams, unsigned count,
                  const struct sockaddr *dest, socklen_t dest_len) {
    enum { MAX = 64 };
    struct mmsghdr msgs[MAX];
    struct iovec iov[MAX];
    if (count > MAX) count = MAX;
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        iov[i].iov_base = (void *)datagrams[i].base;
        iov[i].iov_len = datagrams[i].len;
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = (void *)dest;
        msgs[i].msg_hdr.msg_namelen = dest ? dest_len : 0;
    }
    return sendmmsg(fd, msgs, count, 0);
}

int rill_set_parent_death_signal(int sig) { return prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0); }
int rill_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }

#include <signal.h>
static volatile sig_atomic_t stop_requested = 0;
static void rill_on_stop(int sig) { (void)sig; stop_requested = 1; }
int rill_stop_is_requested(void) { return stop_requested != 0; }
void rill_request_stop(void) { stop_requested = 1; }
void rill_install_stop_handler(void) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = rill_on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

#include <spawn.h>
extern char **environ;
/// The one posix_spawn of the project: empty signal mask, default dispositions, only fds 0–2 kept
/// (never the API's listening socket or the event socket); stdin/stdout replaced when ≥ 0; its own
/// process group when `own_group`.
static int spawn(int *pid, const char *path, char *const argv[], int stdin_fd, int stdout_fd, int own_group) {
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    short flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF;
    if (own_group) {
        posix_spawnattr_setpgroup(&attr, 0);
        flags |= POSIX_SPAWN_SETPGROUP;
    }
    posix_spawnattr_setflags(&attr, flags);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
    if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&fa, stdout_fd, 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    pid_t child = 0;
    int rc = posix_spawn(&child, path, &fa, &attr, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc == 0) *pid = child;
    return rc;
}

int rill_spawn(int *pid, const char *path, char *const argv[]) { return spawn(pid, path, argv, -1, -1, 0); }

int rill_spawn_io(int *pid, const char *path, char *const argv[], int stdin_fd, int stdout_fd) {
    return spawn(pid, path, argv, stdin_fd, stdout_fd, 1);
}

int rill_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

#include <pthread.h>
#include <sched.h>
int rill_set_realtime(int priority) {
    struct sched_param sp = {.sched_priority = priority};
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
}
