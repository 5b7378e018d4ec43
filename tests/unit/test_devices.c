/* Device modaliases: a saved list (comments, blank and CRLF lines, each
 * kind of junk with its line) and a sysfs tree made here (modalias files,
 * driver and module links, links not followed, sorted paths). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fsfixture.h"
#include "query/devices.h"

static void test_list(void **state)
{
	static const char text[] = "pci:v00008086d00003B3Csv000017AAsd00002163bc0Csc03i20\n"
				   "\n"
				   "# a comment\n"
				   "  usb:v05F3p0007d0320dc00dsc00dp00ic03isc01ip01in00  \r\n"
				   "not a modalias\n"
				   "caf\xe9:x\n"
				   "nocolon\n"
				   "b@d:prefix\n"
				   "acpi:PNP0A08:PNP0A03:"; /* no newline at the end */
	struct device_list l;

	assert_int_equal(devices_from_list("l.txt", text, sizeof(text) - 1, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.v[0].modalias, "pci:v00008086d00003B3Csv000017AAsd00002163bc0Csc03i20");
	assert_int_equal(l.v[0].line, 1);
	assert_string_equal(l.v[1].modalias, "usb:v05F3p0007d0320dc00dsc00dp00ic03isc01ip01in00");
	assert_int_equal(l.v[1].line, 4);
	assert_string_equal(l.v[1].file, "l.txt");
	assert_null(l.v[1].devpath);
	assert_string_equal(l.v[2].modalias, "acpi:PNP0A08:PNP0A03:");
	assert_int_equal(l.v[2].line, 9);
	assert_int_equal(l.n_junk, 4);
	assert_int_equal(l.junk[0].line, 5);
	assert_string_equal(l.junk[0].why, "a blank inside");
	assert_int_equal(l.junk[1].line, 6);
	assert_string_equal(l.junk[1].text, "caf\\xE9:x");
	assert_string_equal(l.junk[1].why, "a byte outside printable ASCII");
	assert_int_equal(l.junk[2].line, 7);
	assert_string_equal(l.junk[2].why, "no \"bus:\" prefix");
	assert_int_equal(l.junk[3].line, 8);
	device_list_release(&l);
	device_list_release(&l); /* twice: a released list is empty */
}

static void test_sysfs(void **state)
{
	char *d = fx_mkdtemp();
	struct device_list l;

	assert_int_equal(fx_writes(d, "devices/pci0000:00/0000:00:1a.0/modalias",
				   "pci:v00008086d00003B3Csv000017AAsd00002163bc0Csc03i20\n"), 0);
	assert_int_equal(fx_writes(d, "devices/pci0000:00/0000:00:02.0/modalias",
				   "pci:v00001AF4d00001042sv00001AF4sd00001042bc01sc80i00\nsecond\n"),
			 0);
	assert_int_equal(fx_writes(d, "devices/platform/empty/modalias", ""), 0);
	assert_int_equal(fx_writes(d, "devices/virtual/dmi/id/modalias", "dmi:bvnX:\n"), 0);
	assert_int_equal(fx_mkdirs(d, "bus/pci/drivers/ehci-pci", 1), 0);
	assert_int_equal(symlink("../../../../module/ehci_pci",
				 fx_path(d, "bus/pci/drivers/ehci-pci/module")), 0);
	assert_int_equal(symlink("../../../bus/pci/drivers/ehci-pci",
				 fx_path(d, "devices/pci0000:00/0000:00:1a.0/driver")), 0);
	/* a loop through a link: never followed */
	assert_int_equal(symlink("..", fx_path(d, "devices/pci0000:00/0000:00:1a.0/subsystem")), 0);
	assert_int_equal(devices_from_sysfs(d, &l), 0);
	assert_int_equal(l.n, 3); /* the empty modalias is nothing */
	assert_string_equal(l.v[0].devpath, "/devices/pci0000:00/0000:00:02.0");
	assert_string_equal(l.v[0].modalias, "pci:v00001AF4d00001042sv00001AF4sd00001042bc01sc80i00");
	assert_null(l.v[0].driver);
	assert_string_equal(l.v[1].devpath, "/devices/pci0000:00/0000:00:1a.0");
	assert_string_equal(l.v[1].driver, "ehci-pci");
	assert_string_equal(l.v[1].driver_module, "ehci_pci");
	assert_string_equal(l.v[2].devpath, "/devices/virtual/dmi/id");
	device_list_release(&l);
	assert_int_equal(devices_from_sysfs(fx_path(d, "nowhere"), &l), -ENOENT);
	device_list_release(&l);
	fx_rmtree(d);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_sysfs),
	};

	return cmocka_run_group_tests_name("devices", tests, NULL, NULL);
}
