/* The finding codes. Codes are stable: renaming one breaks every CI gate
 * that greps for it. The severity here is the default; a few analyzers
 * raise or lower it per finding, as docs/check.md says. Titles quote the
 * kernel's message where there is one. */
#include "check/check_int.h"

const struct finding_kind ck_kinds[K_COUNT] = {
	[K_FORMAT] = { "MA-FORMAT", SEV_ERROR,
		       "Invalid module format (not a valid ELF module)" },
	[K_ARCH] = { "MA-ARCH", SEV_ERROR,
		     "Invalid module format (ELF class, byte order or machine of another "
		     "architecture)" },
	[K_UNREADABLE] = { "MA-UNREADABLE", SEV_ERROR, "module file cannot be read" },
	[K_VERMAGIC_FLAGS] = { "MA-VERMAGIC-FLAGS", SEV_ERROR,
			       "version magic flags differ from the kernel's" },
	[K_VERMAGIC_RELEASE] = { "MA-VERMAGIC-RELEASE", SEV_ERROR,
				 "version magic names another kernel release" },
	[K_CYCLE] = { "MA-CYCLE", SEV_ERROR, "dependency cycle" },
	[K_UNRESOLVED] = { "MA-UNRESOLVED", SEV_ERROR, "Unknown symbol in module" },
	[K_CRC] = { "MA-CRC", SEV_ERROR, "disagrees about version of symbol" },
	[K_GPL_ONLY] = { "MA-GPL-ONLY", SEV_ERROR,
			 "GPL-only symbol used by a module whose license is not GPL-compatible" },
	[K_PROPRIETARY_SYMBOL] = { "MA-PROPRIETARY-SYMBOL", SEV_ERROR,
				   "module using GPL-only symbols uses symbols from proprietary "
				   "module" },
	[K_NS_MISSING] = { "MA-NS-MISSING", SEV_ERROR,
			   "uses symbol from namespace, but does not import it" },
	[K_EXPORT_DUP] = { "MA-EXPORT-DUP", SEV_ERROR, "exports duplicate symbol" },
	[K_SIG_BAD] = { "MA-SIG-BAD", SEV_ERROR, "module signature is malformed or does not verify" },
	[K_SIG_UNTRUSTED] = { "MA-SIG-UNTRUSTED", SEV_ERROR,
			      "Required key not available (signer not among the --cert keys)" },
	[K_UNSIGNED] = { "MA-UNSIGNED", SEV_WARNING, "unsigned module in a signed tree" },
	[K_SOFTDEP_MISSING] = { "MA-SOFTDEP-MISSING", SEV_WARNING,
				"soft dependency on a module that exists nowhere" },
	[K_WEAKDEP_MISSING] = { "MA-WEAKDEP-MISSING", SEV_WARNING,
				"weak dependency on a module that exists nowhere" },
	[K_OPTION_UNKNOWN_PARAM] = { "MA-OPTION-UNKNOWN-PARAM", SEV_WARNING,
				     "unknown parameter ignored (modprobe.d options)" },
	[K_BLACKLISTED_NEEDED] = { "MA-BLACKLISTED-NEEDED", SEV_WARNING,
				   "blacklisted module that other modules need" },
	[K_ALIAS_DANGLING] = { "MA-ALIAS-DANGLING", SEV_WARNING,
			       "modprobe.d alias pointing at no module" },
	[K_INSTALL_DANGLING] = { "MA-INSTALL-DANGLING", SEV_WARNING,
				 "modprobe.d install/remove command naming no module" },
	[K_MODPROBE_SYNTAX] = { "MA-MODPROBE-SYNTAX", SEV_WARNING,
				"modprobe.d line that modprobe ignores" },
	[K_DUPLICATE] = { "MA-DUPLICATE", SEV_INFO, "module name found at several paths" },
	[K_FIRMWARE_MISSING] = { "MA-FIRMWARE-MISSING", SEV_WARNING,
				 "firmware file missing under lib/firmware" },
	[K_OPTION_UNKNOWN_MODULE] = { "MA-OPTION-UNKNOWN-MODULE", SEV_INFO,
				      "modprobe.d options for a module that exists nowhere" },
	[K_UNRESOLVED_WEAK] = { "MA-UNRESOLVED-WEAK", SEV_INFO,
				"weak symbol nobody provides (left NULL at load)" },
	[K_SIG_INFO] = { "MA-SIG-INFO", SEV_INFO, "module signature" },
	[K_KERNEL_UNKNOWN] = { "MA-KERNEL-UNKNOWN", SEV_INFO,
			       "kernel exports unknown (no -E or -F): symbols not judged" },
};

const struct finding_kind *check_kinds(size_t *n)
{
	*n = K_COUNT;
	return ck_kinds;
}
