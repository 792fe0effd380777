#ifndef CLINUX_H
#define CLINUX_H
// Linux headers that Swift's Glibc module does not export (sys/epoll.h, eventfd, accept4).
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
#endif
