/* The drop-in depmod: the same code as 'modatlas depmod', in a binary that
 * links only what depmod needs. Kernel install hooks and DKMS run depmod
 * once per install; leaving out graphviz, OpenSSL and json-c (used by
 * 'modatlas check' only) cuts its start-up from about 5 ms to 2. */
#include "cli/cli.h"

const char cli_features[] = "+ZSTD +XZ +ZLIB -LIBCRYPTO";

int main(int argc, char **argv)
{
	return cmd_depmod(argc, argv, "depmod");
}
