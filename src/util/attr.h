/* Attributes the compiler holds the line with: a fallible function's
 * result may not be dropped, printf-like arguments are checked. */
#ifndef MA_UTIL_ATTR_H
#define MA_UTIL_ATTR_H

#define MA_MUST_CHECK __attribute__((warn_unused_result))
#define MA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#endif
