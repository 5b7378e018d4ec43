/* modatlas entry point: dispatch on the subcommand, or on the program name
 * when run through a link named after a kmod tool. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

const char cli_features[] = "+ZSTD +XZ +ZLIB +LIBCRYPTO";

static int cmd_version(int argc, char **argv, const char *prog)
{
	printf("modatlas version %s\n%s\n", MODATLAS_VERSION, cli_features);
	return 0;
}

static int cmd_help(int argc, char **argv, const char *prog);

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv, const char *prog);
	const char *help;
} commands[] = {
	{ "depmod", cmd_depmod, "generate modules.dep and the module indexes (kmod depmod compatible)" },
	{ "check", cmd_check, "predict module load failures offline (text, JSON, DOT)" },
	{ "diff", cmd_diff, "what a kernel upgrade changes: modules, kABI, hardware, consumers" },
	{ "modprobe", cmd_modprobe, "what modprobe would load, offline: -D, -R, -c (kmod compatible)" },
	{ "modinfo", cmd_modinfo, "show a module's information, offline (kmod modinfo compatible)" },
	{ "why", cmd_why, "what modprobe NAME would do and where it would stop, offline" },
	{ "devices", cmd_devices, "which modules udev would load for a machine's devices, from a tree" },
	{ "dump-index", cmd_dump_index, "print the contents of kmod binary index files" },
	{ "version", cmd_version, "print the version" },
	{ "help", cmd_help, "show this help" },
};

static int cmd_help(int argc, char **argv, const char *prog)
{
	printf("Usage: modatlas COMMAND [OPTIONS]\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		printf("  %-10s %s\n", commands[i].name, commands[i].help);
	printf("\nRun 'modatlas COMMAND --help' for a command's options.\n"
	       "Run through a link named 'depmod' (or 'modinfo'), modatlas behaves as\n"
	       "'modatlas depmod' ('modatlas modinfo').\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *base = argc > 0 ? strrchr(argv[0], '/') : NULL;

	base = base ? base + 1 : (argc > 0 ? argv[0] : "modatlas");
	if (strcmp(base, "depmod") == 0)
		return cmd_depmod(argc, argv, "depmod");
	if (strcmp(base, "modinfo") == 0)
		return cmd_modinfo(argc, argv, "modinfo");
	if (argc < 2) {
		cmd_help(argc, argv, base);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(argc, argv, base);
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc, argv, base);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 1, argv + 1, commands[i].name);
	fprintf(stderr, "modatlas: unknown command '%s' (see 'modatlas help')\n", argv[1]);
	return 2;
}
