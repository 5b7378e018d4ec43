/* Calls this code base does not make: unbounded copies and formats, the
 * non-reentrant time and token functions, and string-to-number calls that
 * cannot report an error. The developer profile (make DEV=1, on in
 * `make check`) force-includes this header, so a use fails to compile. */
#ifndef MA_UTIL_BANNED_H
#define MA_UTIL_BANNED_H

/* Their declarations first: the macros below must not reach them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MA_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) MA_BANNED(strcpy)
#undef strcat
#define strcat(x, y) MA_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) MA_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) MA_BANNED(strncat)
#undef sprintf
#define sprintf(...) MA_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) MA_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) MA_BANNED(strtok)
#undef gets
#define gets(x) MA_BANNED(gets)
#undef asctime
#define asctime(t) MA_BANNED(asctime)
#undef ctime
#define ctime(t) MA_BANNED(ctime)
#undef gmtime
#define gmtime(t) MA_BANNED(gmtime)
#undef localtime
#define localtime(t) MA_BANNED(localtime)
#undef atoi
#define atoi(s) MA_BANNED(atoi)
#undef atol
#define atol(s) MA_BANNED(atol)

#endif
