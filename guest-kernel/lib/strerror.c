/* strerror(): the errno's name, which is what a person grepping logs wants anyway. */
#include <errno.h>
#include <string.h>

static const char *const errno_names[] = {
	[0] = "success",
	[EPERM] = "EPERM", [ENOENT] = "ENOENT", [ESRCH] = "ESRCH", [EINTR] = "EINTR",
	[EIO] = "EIO", [ENXIO] = "ENXIO", [E2BIG] = "E2BIG", [ENOEXEC] = "ENOEXEC",
	[EBADF] = "EBADF", [ECHILD] = "ECHILD", [EAGAIN] = "EAGAIN", [ENOMEM] = "ENOMEM",
	[EACCES] = "EACCES", [EFAULT] = "EFAULT", [EBUSY] = "EBUSY", [EEXIST] = "EEXIST",
	[ENODEV] = "ENODEV", [ENOTDIR] = "ENOTDIR", [EISDIR] = "EISDIR",
	[EINVAL] = "EINVAL", [ENFILE] = "ENFILE", [EMFILE] = "EMFILE", [ENOTTY] = "ENOTTY",
	[ENOSPC] = "ENOSPC", [ESPIPE] = "ESPIPE", [EPIPE] = "EPIPE", [EDOM] = "EDOM",
	[ERANGE] = "ERANGE", [EDEADLK] = "EDEADLK", [ENAMETOOLONG] = "ENAMETOOLONG",
	[ENOSYS] = "ENOSYS", [ENOTEMPTY] = "ENOTEMPTY", [ELOOP] = "ELOOP",
	[ENOMSG] = "ENOMSG", [EPROTO] = "EPROTO", [EBADMSG] = "EBADMSG",
	[EOVERFLOW] = "EOVERFLOW", [ENOTSOCK] = "ENOTSOCK",
	[EDESTADDRREQ] = "EDESTADDRREQ", [EMSGSIZE] = "EMSGSIZE",
	[EPROTOTYPE] = "EPROTOTYPE", [ENOPROTOOPT] = "ENOPROTOOPT",
	[EPROTONOSUPPORT] = "EPROTONOSUPPORT", [ESOCKTNOSUPPORT] = "ESOCKTNOSUPPORT",
	[EOPNOTSUPP] = "EOPNOTSUPP", [EPFNOSUPPORT] = "EPFNOSUPPORT",
	[EAFNOSUPPORT] = "EAFNOSUPPORT", [EADDRINUSE] = "EADDRINUSE",
	[EADDRNOTAVAIL] = "EADDRNOTAVAIL", [ENETDOWN] = "ENETDOWN",
	[ENETUNREACH] = "ENETUNREACH", [ENETRESET] = "ENETRESET",
	[ECONNABORTED] = "ECONNABORTED", [ECONNRESET] = "ECONNRESET",
	[ENOBUFS] = "ENOBUFS", [EISCONN] = "EISCONN", [ENOTCONN] = "ENOTCONN",
	[ESHUTDOWN] = "ESHUTDOWN", [ETIMEDOUT] = "ETIMEDOUT",
	[ECONNREFUSED] = "ECONNREFUSED", [EHOSTDOWN] = "EHOSTDOWN",
	[EHOSTUNREACH] = "EHOSTUNREACH", [EALREADY] = "EALREADY",
	[EINPROGRESS] = "EINPROGRESS", [ECANCELED] = "ECANCELED",
};

const char *strerror(int errnum)
{
	if (errnum < 0)
		errnum = -errnum; /* a -errno from the ring reads the same */
	if ((size_t)errnum < sizeof(errno_names) / sizeof(errno_names[0]) &&
	    errno_names[errnum])
		return errno_names[errnum];
	return "unknown error";
}
