// Xen error numbers (xen/include/public/errno.h). Hypercalls return -value in EAX.
// Xen's headers spell them XEN_<name> (e.g. XEN_EINVAL); names here omit that prefix.

import type { XenErrno } from './types.js';

function e(name: string, value: number, doc: string, extra: { aliasOf?: string; internal?: boolean } = {}): XenErrno {
  return { name, value, doc, ...extra };
}

export const XEN_ERRNOS: readonly XenErrno[] = [
  e('EPERM', 1, 'Operation not permitted (privileged op, foreign domain, MMIO without permission).'),
  e('ENOENT', 2, 'No such entry (e.g. no such vCPU).'),
  e('ESRCH', 3, 'No such domain (bad domain id / foreigndom).'),
  e('EINTR', 4, 'Interrupted system call.', { internal: true }),
  e('EIO', 5, 'I/O error.'),
  e('ENXIO', 6, 'No such device or address.'),
  e('E2BIG', 7, 'Argument list too long.'),
  e('ENOEXEC', 8, 'Exec format error.'),
  e('EBADF', 9, 'Bad file number.'),
  e('ECHILD', 10, 'No child processes.'),
  e('EAGAIN', 11, 'Try again.'),
  e('EWOULDBLOCK', 11, 'Operation would block.', { aliasOf: 'EAGAIN' }),
  e('ENOMEM', 12, 'Out of memory.'),
  e('EACCES', 13, 'Permission denied.'),
  e('EFAULT', 14, 'Bad address (guest pointer not readable/writable).'),
  e('EBUSY', 16, 'Busy (page type/reference could not be taken, e.g. writable mapping of a page table).'),
  e('EEXIST', 17, 'Already exists (e.g. VIRQ already bound).'),
  e('EXDEV', 18, 'Cross-device link.'),
  e('ENODEV', 19, 'No such device.'),
  e('ENOTDIR', 20, 'Not a directory.'),
  e('EISDIR', 21, 'Is a directory.'),
  e('EINVAL', 22, 'Invalid argument (bad flags, failed validation, bad port).'),
  e('ENFILE', 23, 'File table overflow.'),
  e('EMFILE', 24, 'Too many open files.'),
  e('ENOSPC', 28, 'No space left (e.g. no free event-channel port).'),
  e('EROFS', 30, 'Read-only file system.'),
  e('EMLINK', 31, 'Too many links.'),
  e('EDOM', 33, 'Math argument out of domain.'),
  e('ERANGE', 34, 'Result out of range.'),
  e('EDEADLK', 35, 'Resource deadlock would occur.'),
  e('EDEADLOCK', 35, 'Resource deadlock would occur.', { aliasOf: 'EDEADLK' }),
  e('ENAMETOOLONG', 36, 'File name too long.'),
  e('ENOLCK', 37, 'No record locks available.'),
  e('ENOSYS', 38, 'Function not implemented (unknown hypercall or sub-command).'),
  e('ENOTEMPTY', 39, 'Directory not empty.'),
  e('ENODATA', 61, 'No data available.'),
  e('ETIME', 62, 'Timer expired.'),
  e('EBADMSG', 74, 'Not a data message.'),
  e('EOVERFLOW', 75, 'Value too large for the data type.'),
  e('EILSEQ', 84, 'Illegal byte sequence.'),
  e('ERESTART', 85, 'Call should be restarted.', { internal: true }),
  e('ENOTSOCK', 88, 'Socket operation on non-socket.'),
  e('EMSGSIZE', 90, 'Message too large.'),
  e('EOPNOTSUPP', 95, 'Operation not supported.'),
  e('EADDRINUSE', 98, 'Address already in use.'),
  e('EADDRNOTAVAIL', 99, 'Cannot assign requested address.'),
  e('ENOBUFS', 105, 'No buffer space available.'),
  e('EISCONN', 106, 'Transport endpoint is already connected.'),
  e('ENOTCONN', 107, 'Transport endpoint is not connected.'),
  e('ETIMEDOUT', 110, 'Connection timed out.'),
  e('ECONNREFUSED', 111, 'Connection refused.'),
];

const BY_NAME = new Map(XEN_ERRNOS.map((x) => [x.name, x]));
const BY_VALUE = new Map<number, XenErrno>();
for (const x of XEN_ERRNOS) if (!x.aliasOf) BY_VALUE.set(x.value, x);

/** Looks an errno up by name, with or without the `XEN_` prefix. */
export function xenErrnoByName(name: string): XenErrno | undefined {
  return BY_NAME.get(name.startsWith('XEN_') ? name.slice(4) : name);
}

/** The primary errno with this (positive) value; undefined if Xen defines none. */
export function xenErrnoByValue(value: number): XenErrno | undefined {
  return BY_VALUE.get(value);
}
