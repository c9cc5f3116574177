/* SPDX-License-Identifier: MIT */
/*
 * The error numbers libvirtsocket returns (as -VS_Exxx), with Linux's values:
 * the host's hostnet passes host errno values through unchanged, and a host
 * build can compare them with <errno.h> directly.  Freestanding code has no
 * <errno.h> of its own, hence this header.
 */
#ifndef VIRTSOCKET_VS_ERRNO_H
#define VIRTSOCKET_VS_ERRNO_H

#define VS_EPERM         1
#define VS_ENOENT        2
#define VS_EINTR         4
#define VS_EIO           5
#define VS_EBADF         9
#define VS_EAGAIN        11
#define VS_ENOMEM        12
#define VS_EACCES        13
#define VS_EFAULT        14
#define VS_EBUSY         16
#define VS_EEXIST        17
#define VS_ENODEV        19
#define VS_EINVAL        22
#define VS_EMFILE        24
#define VS_ENOSPC        28
#define VS_EPIPE         32
#define VS_ERANGE        34
#define VS_ENOSYS        38
#define VS_ENOTSOCK      88
#define VS_EDESTADDRREQ  89
#define VS_EMSGSIZE      90
#define VS_EPROTOTYPE    91
#define VS_ENOPROTOOPT   92
#define VS_EPROTONOSUPPORT 93
#define VS_EOPNOTSUPP    95
#define VS_EAFNOSUPPORT  97
#define VS_EADDRINUSE    98
#define VS_EADDRNOTAVAIL 99
#define VS_ENETDOWN      100
#define VS_ENETUNREACH   101
#define VS_ECONNABORTED  103
#define VS_ECONNRESET    104
#define VS_ENOBUFS       105
#define VS_EISCONN       106
#define VS_ENOTCONN      107
#define VS_ETIMEDOUT     110
#define VS_ECONNREFUSED  111
#define VS_EHOSTUNREACH  113
#define VS_EALREADY      114
#define VS_EINPROGRESS   115
#define VS_ECANCELED     125

#endif /* VIRTSOCKET_VS_ERRNO_H */
