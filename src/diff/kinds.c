/* The change kinds. Codes are stable: CI gates and ignore files name
 * them; a code is never renamed or reused. The severity is the default;
 * a few kinds are raised or lowered per change, as docs/diff.md says. The
 * severities of the kABI kinds are those of Ubuntu's abi-check: a
 * removed symbol or a changed CRC breaks prebuilt modules (error), a move
 * only changes dependencies (warning). */
#include "diff/diff_int.h"

const struct finding_kind dk_kinds[DK_COUNT] = {
	[DK_MOD_REMOVED] = { "MOD-REMOVED", SEV_ERROR,
		"module removed" },
	[DK_MOD_ADDED] = { "MOD-ADDED", SEV_INFO,
		"module added" },
	[DK_MOD_MOVED] = { "MOD-MOVED", SEV_INFO,
		"module moved (same name, other path)" },
	[DK_MOD_RENAMED] = { "MOD-RENAMED", SEV_WARNING,
		"module renamed (same exports and aliases, other name)" },
	[DK_MOD_NOW_BUILTIN] = { "MOD-NOW-BUILTIN", SEV_WARNING,
		"loadable module now built into the kernel" },
	[DK_MOD_NOW_LOADABLE] = { "MOD-NOW-LOADABLE", SEV_WARNING,
		"built-in module now loadable" },
	[DK_BUILTIN_REMOVED] = { "MOD-BUILTIN-REMOVED", SEV_ERROR,
		"built-in module removed" },
	[DK_BUILTIN_ADDED] = { "MOD-BUILTIN-ADDED", SEV_INFO,
		"built-in module added" },
	[DK_MOD_COMPRESSION] = { "MOD-COMPRESSION", SEV_INFO,
		"compression changed" },
	[DK_MOD_SIGNATURE] = { "MOD-SIGNATURE", SEV_INFO,
		"signature changed (signer, key or hash; signed or not)" },
	[DK_MOD_LICENSE] = { "MOD-LICENSE", SEV_INFO,
		"license changed" },
	[DK_MOD_VERMAGIC] = { "MOD-VERMAGIC", SEV_ERROR,
		"version magic flags changed" },
	[DK_KABI_REMOVED] = { "KABI-REMOVED", SEV_ERROR,
		"exported symbol removed (MISS)" },
	[DK_KABI_ADDED] = { "KABI-ADDED", SEV_INFO,
		"exported symbol added (NEW)" },
	[DK_KABI_CRC] = { "KABI-CRC", SEV_ERROR,
		"symbol CRC changed (HASH)" },
	[DK_KABI_MOVED] = { "KABI-MOVED", SEV_WARNING,
		"symbol moved between vmlinux and modules (MOVE)" },
	[DK_KABI_TYPE] = { "KABI-TYPE", SEV_ERROR,
		"export type changed (TYPE)" },
	[DK_KABI_NAMESPACE] = { "KABI-NAMESPACE", SEV_ERROR,
		"symbol namespace changed" },
	[DK_KABI_UNKNOWN] = { "KABI-UNKNOWN", SEV_INFO,
		"vmlinux symbol of OLD not known in NEW (give --new-symvers)" },
	[DK_CONSUMER_BROKEN] = { "CONSUMER-BROKEN", SEV_ERROR,
		"module that loads on OLD is refused by NEW" },
	[DK_CONSUMER_REFUSED] = { "CONSUMER-REFUSED", SEV_WARNING,
		"module refused by both kernels" },
	[DK_CONSUMER_LOADS] = { "CONSUMER-LOADS", SEV_INFO,
		"module loads on NEW" },
	[DK_HW_LOST] = { "HW-LOST", SEV_ERROR,
		"alias pattern whose devices no module of NEW matches" },
	[DK_HW_OTHER_DRIVER] = { "HW-OTHER-DRIVER", SEV_WARNING,
		"alias pattern now matched (in part) by other modules" },
	[DK_HW_REWRITTEN] = { "HW-REWRITTEN", SEV_INFO,
		"alias pattern rewritten, its devices still matched by the module (widened, merged)" },
	[DK_HW_GAINED] = { "HW-GAINED", SEV_INFO,
		"alias pattern of a module matching devices it did not" },
	[DK_HW_BUILTIN] = { "HW-BUILTIN", SEV_INFO,
		"alias pattern of a module now built in, listed with no alias: its driver binds without one" },
	[DK_DEV_LOST] = { "DEV-LOST", SEV_ERROR,
		"device no module of NEW matches" },
	[DK_DEV_BLACKLISTED] = { "DEV-BLACKLISTED", SEV_WARNING,
		"device whose only NEW drivers are blacklisted" },
	[DK_DEV_OTHER_DRIVER] = { "DEV-OTHER-DRIVER", SEV_WARNING,
		"device bound by other modules in NEW" },
	[DK_DEV_SAME] = { "DEV-SAME", SEV_INFO,
		"device matched by the same modules" },
	[DK_DEV_NONE] = { "DEV-NONE", SEV_INFO,
		"device no module of either tree matches" },
	[DK_PARAM_REMOVED] = { "PARAM-REMOVED", SEV_WARNING,
		"module parameter removed (options now \"unknown parameter\")" },
	[DK_PARAM_TYPE] = { "PARAM-TYPE", SEV_WARNING,
		"module parameter type changed" },
	[DK_PARAM_ADDED] = { "PARAM-ADDED", SEV_INFO,
		"module parameter added" },
	[DK_OPTION_IGNORED] = { "OPTION-IGNORED", SEV_ERROR,
		"modprobe.d option NEW would ignore (unknown parameter)" },
	[DK_SOFTDEP] = { "SOFTDEP-CHANGED", SEV_INFO,
		"soft dependencies changed" },
	[DK_WEAKDEP] = { "WEAKDEP-CHANGED", SEV_INFO,
		"weak dependencies changed" },
	[DK_FIRMWARE_ADDED] = { "FIRMWARE-ADDED", SEV_INFO,
		"firmware file newly requested" },
	[DK_FIRMWARE_REMOVED] = { "FIRMWARE-REMOVED", SEV_INFO,
		"firmware file no longer requested" },
	[DK_FIRMWARE_MISSING] = { "FIRMWARE-MISSING", SEV_WARNING,
		"firmware file NEW requests, missing under NEW's lib/firmware" },
	[DK_DEP_CHANGED] = { "DEP-CHANGED", SEV_INFO,
		"dependencies changed (modules.dep)" },
	[DK_DEVNAME_REMOVED] = { "DEVNAME-REMOVED", SEV_WARNING,
		"device node entry removed (modules.devname)" },
	[DK_DEVNAME_CHANGED] = { "DEVNAME-CHANGED", SEV_WARNING,
		"device node entry changed (modules.devname)" },
	[DK_DEVNAME_ADDED] = { "DEVNAME-ADDED", SEV_INFO,
		"device node entry added (modules.devname)" },
};

/* Section and summary label of each kind. */
static const struct {
	enum diff_section section;
	const char *label;
} meta[DK_COUNT] = {
	[DK_MOD_REMOVED] = { DS_MODULES, "removed" },
	[DK_MOD_ADDED] = { DS_MODULES, "added" },
	[DK_MOD_MOVED] = { DS_MODULES, "moved" },
	[DK_MOD_RENAMED] = { DS_MODULES, "renamed" },
	[DK_MOD_NOW_BUILTIN] = { DS_MODULES, "now built-in" },
	[DK_MOD_NOW_LOADABLE] = { DS_MODULES, "now loadable" },
	[DK_BUILTIN_REMOVED] = { DS_MODULES, "built-in removed" },
	[DK_BUILTIN_ADDED] = { DS_MODULES, "built-in added" },
	[DK_MOD_COMPRESSION] = { DS_MODULES, "compression" },
	[DK_MOD_SIGNATURE] = { DS_MODULES, "signature" },
	[DK_MOD_LICENSE] = { DS_MODULES, "license" },
	[DK_MOD_VERMAGIC] = { DS_MODULES, "vermagic flags" },
	[DK_KABI_REMOVED] = { DS_KABI, "removed" },
	[DK_KABI_ADDED] = { DS_KABI, "added" },
	[DK_KABI_CRC] = { DS_KABI, "CRC changed" },
	[DK_KABI_MOVED] = { DS_KABI, "moved" },
	[DK_KABI_TYPE] = { DS_KABI, "type changed" },
	[DK_KABI_NAMESPACE] = { DS_KABI, "namespace changed" },
	[DK_KABI_UNKNOWN] = { DS_KABI, "unknown" },
	[DK_CONSUMER_BROKEN] = { DS_CONSUMERS, "broken" },
	[DK_CONSUMER_REFUSED] = { DS_CONSUMERS, "refused by both" },
	[DK_CONSUMER_LOADS] = { DS_CONSUMERS, "load" },
	[DK_HW_LOST] = { DS_HARDWARE, "lost" },
	[DK_HW_OTHER_DRIVER] = { DS_HARDWARE, "other driver" },
	[DK_HW_REWRITTEN] = { DS_HARDWARE, "rewritten" },
	[DK_HW_GAINED] = { DS_HARDWARE, "gained" },
	[DK_HW_BUILTIN] = { DS_HARDWARE, "built in, no alias" },
	[DK_DEV_LOST] = { DS_HARDWARE, "devices lost" },
	[DK_DEV_BLACKLISTED] = { DS_HARDWARE, "devices blacklisted" },
	[DK_DEV_OTHER_DRIVER] = { DS_HARDWARE, "devices other driver" },
	[DK_DEV_SAME] = { DS_HARDWARE, "devices same" },
	[DK_DEV_NONE] = { DS_HARDWARE, "devices without driver" },
	[DK_PARAM_REMOVED] = { DS_BEHAVIOUR, "parameters removed" },
	[DK_PARAM_TYPE] = { DS_BEHAVIOUR, "parameter types" },
	[DK_PARAM_ADDED] = { DS_BEHAVIOUR, "parameters added" },
	[DK_OPTION_IGNORED] = { DS_BEHAVIOUR, "options ignored" },
	[DK_SOFTDEP] = { DS_BEHAVIOUR, "softdeps" },
	[DK_WEAKDEP] = { DS_BEHAVIOUR, "weakdeps" },
	[DK_FIRMWARE_ADDED] = { DS_BEHAVIOUR, "firmware added" },
	[DK_FIRMWARE_REMOVED] = { DS_BEHAVIOUR, "firmware removed" },
	[DK_FIRMWARE_MISSING] = { DS_BEHAVIOUR, "firmware missing" },
	[DK_DEP_CHANGED] = { DS_BEHAVIOUR, "dependencies" },
	[DK_DEVNAME_REMOVED] = { DS_BEHAVIOUR, "devnames removed" },
	[DK_DEVNAME_CHANGED] = { DS_BEHAVIOUR, "devnames changed" },
	[DK_DEVNAME_ADDED] = { DS_BEHAVIOUR, "devnames added" },
};

const struct finding_kind *diff_kinds(size_t *n)
{
	*n = DK_COUNT;
	return dk_kinds;
}

static long index_of(const struct finding_kind *k)
{
	return k >= dk_kinds && k < dk_kinds + DK_COUNT ? k - dk_kinds : -1;
}

enum diff_section diff_kind_section(const struct finding_kind *k)
{
	long i = index_of(k);

	return i < 0 ? DS_BEHAVIOUR : meta[i].section;
}

const char *diff_kind_label(const struct finding_kind *k)
{
	long i = index_of(k);

	return i < 0 ? "?" : meta[i].label;
}

const char *diff_section_name(enum diff_section s)
{
	static const char *const names[DS_COUNT] = { "modules", "kabi", "consumers", "hardware",
						     "behaviour" };

	return s < DS_COUNT ? names[s] : "?";
}

long dk_find_code(const char *code)
{
	for (size_t i = 0; i < DK_COUNT; i++)
		if (!strcmp(dk_kinds[i].code, code))
			return (long)i;
	return -1;
}
_Static_assert(DK_COUNT <= 64, "render.h counts 64 kinds at most");
