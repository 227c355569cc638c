#ifndef WARREN_PROCESS_SPAWN_H
#define WARREN_PROCESS_SPAWN_H

#include <sys/types.h>

/// Starts `path` with posix_spawn: `stdin_fd`, `stdout_fd` and `stderr_fd` become the
/// child's 0, 1 and 2 (-1 means /dev/null), every other descriptor is closed in the
/// child, the signal mask is emptied and every signal's disposition is reset to its
/// default (an ignored SIGPIPE or a blocked SIGTERM would otherwise be inherited
/// through exec). `cwd` may be NULL. Returns 0 and sets `*pid`, or an errno value.
int warren_spawn(const char *path, char *const argv[], char *const envp[], const char *cwd,
                 int stdin_fd, int stdout_fd, int stderr_fd, pid_t *pid);

/// pipe2(fds, O_CLOEXEC): the parent's ends never leak into other children.
int warren_pipe_cloexec(int fds[2]);

#endif
