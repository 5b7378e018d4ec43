#ifndef MA_VERSION_H
#define MA_VERSION_H

#define MODATLAS_VERSION "0.1.0"

#endif
