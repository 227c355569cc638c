#ifndef WARREN_CZLIB_SHIM_H
#define WARREN_CZLIB_SHIM_H
#include <zlib.h>
#endif
