#ifndef CLINUX_H
#define CLINUX_H
// Linux headers that Swift's Glibc module does not export (sys/epoll.h, eventfd, accept4,
// pthread_setname_np).
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/random.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

/// accept4(2) is declared only under _GNU_SOURCE, which Glibc's module map does not define.
int clinux_accept4(int fd, struct sockaddr *addr, socklen_t *len, int flags);

/// getrandom(2), retried on EINTR; returns 0 on success, -1 with errno set otherwise.
int clinux_getrandom(void *buf, size_t len);

/// Names the calling thread (pthread_setname_np, _GNU_SOURCE only); at most 15 bytes are kept.
int clinux_set_thread_name(const char *name);

/// The calling thread's name into `buf` (pthread_getname_np); 0 on success.
int clinux_thread_name(char *buf, size_t len);
#endif
