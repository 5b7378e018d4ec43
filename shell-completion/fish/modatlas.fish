# fish completion for modatlas (fish loads it by command name from
# vendor_completions.d; modatlas-depmod.fish and the modatlas-depmod
# package's depmod.fish reuse __modatlas_complete_depmod).
#
# A new command is one line in the command list below and one
# __modatlas_complete_<command> function.

# The tree named on the command line so far (-b/--basedir, modprobe's
# -d/--dirname, -m/--moduledir).
function __modatlas_tree
    set -l base ''
    set -l moddir /lib/modules
    set -l prev ''
    set -l words (commandline -opc)
    set -l modprobe 0
    contains -- modprobe $words; and set modprobe 1
    for w in $words
        switch $prev
            case -b --basedir
                test $modprobe = 0; and set base $w
            case -d --dirname
                test $modprobe = 1; and set base $w
            case -m --moduledir
                set moddir $w
        end
        switch $w
            case '--basedir=*' '--dirname=*'
                set base (string replace -r -- '^--[a-z]+=' '' $w)
            case '--moduledir=*'
                set moddir (string replace -- '--moduledir=' '' $w)
        end
        set prev $w
    end
    echo $base$moddir
end

# Kernel releases with a module directory under that tree.
function __modatlas_kernels
    for d in (__modatlas_tree)/*/
        basename $d
    end
end

# Module names of the first version-like word's kernel (else the running
# one), from its modules.dep: the hook for query commands taking a module.
function __modatlas_modules
    set -l kver (uname -r)
    set -l prev ''
    for w in (commandline -opc)
        if contains -- $prev -S --set-version -k
            set kver $w
            break
        end
        if string match -qr '^[0-9]+\.[0-9]+' -- $w
            set kver $w
            break
        end
        set prev $w
    end
    set -l dep (__modatlas_tree)/$kver/modules.dep
    test -r $dep; or return 0
    string replace -r ':.*' '' <$dep | string replace -r '.*/' '' | string replace -r '\.ko(\.[a-z]+)?$' ''
end

# Finding codes of modatlas check (src/check/codes.c; the tests compare
# them). No option takes a code yet: one that does completes with this.
function __modatlas_codes
    printf '%s\n' MA-FORMAT MA-ARCH MA-UNREADABLE MA-VERMAGIC-FLAGS \
        MA-VERMAGIC-RELEASE MA-CYCLE MA-UNRESOLVED MA-CRC MA-GPL-ONLY MA-PROPRIETARY-SYMBOL \
        MA-NS-MISSING MA-EXPORT-DUP MA-SIG-BAD MA-SIG-UNTRUSTED MA-UNSIGNED \
        MA-SOFTDEP-MISSING MA-WEAKDEP-MISSING MA-OPTION-UNKNOWN-PARAM \
        MA-BLACKLISTED-NEEDED MA-ALIAS-DANGLING MA-INSTALL-DANGLING \
        MA-MODPROBE-SYNTAX MA-DUPLICATE MA-FIRMWARE-MISSING \
        MA-OPTION-UNKNOWN-MODULE MA-UNRESOLVED-WEAK MA-SIG-INFO MA-KERNEL-UNKNOWN
end

function __modatlas_no_command
    not __fish_seen_subcommand_from depmod check modprobe modinfo why devices diff dump-index version help
end

# __modatlas_complete_depmod CMD CONDITION: depmod's options for CMD when
# CONDITION holds.
function __modatlas_complete_depmod -a cmd cond
    set -l c complete -c $cmd -n $cond
    $c -s a -l all -d 'Probe all modules'
    $c -s A -l quick -d 'Only work if a module is newer than modules.dep'
    $c -s e -l errsyms -d 'Report symbols no one supplies'
    $c -s n -l show -d 'Write the files to standard output only'
    $c -s P -l symbol-prefix -x -d 'Architecture symbol prefix'
    $c -s C -l config -r -F -d 'Read depmod.d configuration from PATH'
    $c -s v -l verbose -d 'Verbose mode'
    $c -s w -l warn -d 'Warn on duplicates'
    $c -s V -l version -d 'Print the version and features'
    $c -s h -l help -d 'Show the options'
    $c -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Use an image of a module tree'
    $c -s m -l moduledir -x -a '(__fish_complete_directories)' -d 'Module directory'
    $c -s o -l outdir -x -a '(__fish_complete_directories)' -d 'Output directory'
    $c -s F -l filesyms -r -F -d 'Kernel symbols from a System.map'
    $c -s E -l symvers -r -F -d 'Kernel symbols and CRCs from a Module.symvers'
    $c -l compat -x -a 'kmod34 kmod30' -d 'kmod behaviour to reproduce'
    $c -s j -l jobs -x -d 'Threads reading modules (0: one per CPU)'
    $c -l no-cache -d 'Neither read nor write the incremental cache'
    $c -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache directory'
    $c -a '(__modatlas_kernels)' -d 'Kernel version'
end

function __modatlas_complete_check -a cmd cond
    set -l c complete -c $cmd -n $cond
    $c -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Root of the tree image'
    $c -s m -l moduledir -x -a '(__fish_complete_directories)' -d 'Module directory'
    $c -s C -l config -r -F -d 'depmod.d file or directory'
    $c -s E -l symvers -r -F -d "The target kernel's Module.symvers (repeatable)"
    $c -s F -l system-map -r -F -d "The target kernel's System.map"
    $c -l all -d 'Every kernel under the module directory'
    $c -l dkms -x -a '(__fish_complete_directories)' -d 'A DKMS tree: each build against its kernel'
    $c -l cert -r -F -d 'X.509 certificate the target trusts'
    $c -l sig-enforce -d 'The target enforces module signatures'
    $c -l lockdown -d 'The target is locked down (Secure Boot)'
    $c -l modprobe-d -r -F -d 'modprobe.d directory or file to check'
    $c -l vermagic -x -d "The target kernel's vermagic"
    $c -s f -l format -x -a 'text json dot svg' -d 'Output format'
    $c -l summary -d 'Text: the verdicts only'
    $c -l focus -x -a '(__modatlas_modules)' -d 'dot/svg: this module, its dependencies and users'
    $c -l fail-on -x -a 'error warning info never' -d 'Exit 1 at a finding of this level or worse'
    $c -s j -l jobs -x -d 'Threads reading modules (0: one per CPU)'
    $c -l no-cache -d 'Do not use or write the cache'
    $c -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache location'
    $c -s v -l verbose -d 'List info findings and clean modules too; twice: debug'
    $c -s h -l help -d 'Show the options'
    $c -a '(__modatlas_kernels)' -d 'Kernel version'
end

function __modatlas_complete_diff -a cmd cond
    set -l c complete -c $cmd -n $cond
    $c -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Root of both tree images'
    $c -s m -l moduledir -x -a '(__fish_complete_directories)' -d 'Module directory'
    $c -s C -l config -r -F -d 'depmod.d file or directory'
    $c -l old-symvers -r -F -d "OLD's Module.symvers (repeatable)"
    $c -l new-symvers -r -F -d "NEW's Module.symvers (repeatable)"
    $c -l kabi-list -r -F -d 'Judge only these symbols (a stablelist)'
    $c -l ignore -r -F -d 'Changes to ignore'
    $c -l modprobe-d -r -F -d 'modprobe.d path: options NEW would ignore'
    $c -l module -r -F -d 'An out-of-tree module built for OLD'
    $c -l dkms -x -a '(__fish_complete_directories)' -d 'A DKMS tree: its builds for OLD'
    $c -l sysfs -x -a '(__fish_complete_directories)' -d "A machine's devices: each judged on both trees"
    $c -l modaliases -r -F -d 'The same from a list of modaliases'
    $c -s f -l format -x -a 'text json markdown' -d 'Output format'
    $c -l summary -d 'Text, markdown: the summary only'
    $c -l fail-on -x -a 'error warning info never' -d 'Exit 1 at a change of this level or worse'
    $c -s j -l jobs -x -d 'Threads reading modules (0: one per CPU)'
    $c -l no-cache -d 'Do not use or write the cache'
    $c -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache location'
    $c -s v -l verbose -d 'List info and ignored changes too; twice: debug'
    $c -s h -l help -d 'Show the options'
    $c -a '(__modatlas_kernels)' -d 'Kernel version (or BASE:VERSION)'
end

function __modatlas_complete_modprobe -a cmd cond
    set -l c complete -c $cmd -n $cond
    $c -s D -l show-depends -d 'Print what would be loaded, in order'
    $c -s R -l resolve-alias -d 'Print the modules a name resolves to'
    $c -s c -l showconfig -d 'Print the configuration and the indexes'
    $c -l show-exports -r -F -d "Print a module file's exported symbols"
    $c -l show-modversions -r -F -d "Print a module file's symbol versions"
    $c -s a -l all -d 'Every argument is a module name'
    $c -s i -l ignore-install -d 'Ignore the install command and softdeps'
    $c -s b -l use-blacklist -d 'Apply the blacklist to names too'
    $c -s C -l config -r -F -d 'modprobe.d file or directory'
    $c -s d -l dirname -x -a '(__fish_complete_directories)' -d 'Root of the tree image'
    $c -s S -l set-version -x -a '(__modatlas_kernels)' -d 'Kernel version'
    $c -s q -l quiet -d 'Print no messages'
    $c -s v -l verbose -d 'Print more messages'
    $c -s s -l syslog -d 'Send messages to syslog'
    $c -s V -l version -d 'Print the version'
    $c -s h -l help -d 'Show the options'
    $c -l compat -x -a 'kmod34 kmod30' -d 'kmod behaviour to reproduce'
    $c -l cmdline -x -d 'Kernel command line (STRING or @FILE)'
    $c -l index -x -a 'auto files build' -d 'Where the indexes come from'
    $c -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache directory'
    $c -l no-cache -d 'Neither read nor write the cache'
    $c -l jobs -x -d 'Threads reading modules (0: one per CPU)'
    $c -a '(__modatlas_modules)' -d 'Module'
end

function __modatlas_complete_modinfo -a cmd cond
    set -l c complete -c $cmd -n $cond
    $c -s a -l author -d 'Print only the author'
    $c -s d -l description -d 'Print only the description'
    $c -s l -l license -d 'Print only the license'
    $c -s p -l parameters -d 'Print only the parameters'
    $c -s n -l filename -d 'Print only the file name'
    $c -s 0 -l null -d 'End values with a NUL byte'
    $c -s m -l modname -d 'Arguments are module names'
    $c -s F -l field -x -a 'alias author depends description filename firmware import_ns intree license name parm parmtype retpoline sig_hashalgo sig_id sig_key signature signer softdep srcversion vermagic' -d 'Print only this field'
    $c -s k -l set-version -x -a '(__modatlas_kernels)' -d 'Kernel version'
    $c -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Root of the tree image'
    $c -s V -l version -d 'Print the version'
    $c -s h -l help -d 'Show the options'
    $c -l compat -x -a 'kmod34 kmod30' -d 'kmod behaviour to reproduce'
    $c -l index -x -a 'auto files build' -d 'Where the indexes come from'
    $c -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache directory'
    $c -l no-cache -d 'Neither read nor write the cache'
    $c -l jobs -x -d 'Threads reading modules (0: one per CPU)'
    $c -a '(__modatlas_modules)' -d 'Module'
end

function __modatlas_complete_why -a cmd cond
    set -l c complete -c $cmd -n $cond
    $c -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Root of the tree image'
    $c -s C -l config -r -F -d 'modprobe.d file or directory'
    $c -s E -l symvers -r -F -d "The target kernel's Module.symvers"
    $c -s F -l system-map -r -F -d "The target kernel's System.map"
    $c -l cert -r -F -d 'X.509 certificate the target trusts'
    $c -l sig-enforce -d 'The target enforces module signatures'
    $c -l lockdown -d 'The target is locked down (Secure Boot)'
    $c -s i -l ignore-install -d 'Ignore install and remove commands'
    $c -l use-blacklist -d 'Apply blacklists to the name itself'
    $c -l cmdline -x -d "The target's kernel command line (STRING or @FILE)"
    $c -l compat -x -a 'kmod34 kmod30' -d 'kmod behaviour to reproduce'
    $c -s f -l format -x -a 'text json' -d 'Output format'
    $c -l no-cache -d 'Neither read nor write the cache'
    $c -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache directory'
    $c -s j -l jobs -x -d 'Threads reading modules (0: one per CPU)'
    $c -s h -l help -d 'Show the options'
    $c -a '(__modatlas_modules)' -d 'Module'
end

function __modatlas_complete_devices -a cmd cond
    set -l c complete -c $cmd -n $cond
    $c -l sysfs -x -a '(__fish_complete_directories)' -d 'Read the devices from this sysfs'
    $c -l modaliases -r -F -d 'Read the devices from a list of modaliases'
    $c -s b -l basedir -x -a '(__fish_complete_directories)' -d 'Root of the tree image'
    $c -s C -l config -r -F -d 'modprobe.d file or directory'
    $c -s f -l format -x -a 'text json' -d 'Output format'
    $c -s h -l help -d 'Show the options'
    $c -l compat -x -a 'kmod34 kmod30' -d 'kmod behaviour to reproduce'
    $c -l cmdline -x -d "The target's kernel command line (STRING or @FILE)"
    $c -l index -x -a 'auto files build' -d 'Where the indexes come from'
    $c -l cache-dir -x -a '(__fish_complete_directories)' -d 'Cache directory'
    $c -l no-cache -d 'Neither read nor write the cache'
    $c -l jobs -x -d 'Threads reading modules (0: one per CPU)'
    $c -a '(__modatlas_kernels)' -d 'Kernel version'
end

function __modatlas_complete_dump-index -a cmd cond
    complete -c $cmd -n $cond -s h -l help -d 'Show the usage'
    complete -c $cmd -n $cond -F
end

complete -c modatlas -f
complete -c modatlas -n __modatlas_no_command -s h -l help -d 'Show the commands'
complete -c modatlas -n __modatlas_no_command -s V -l version -d 'Print the version'
for entry in \
    'depmod:generate modules.dep and the module indexes (kmod depmod compatible)' \
    'check:predict module load failures offline (text, JSON, DOT)' \
    'diff:what a kernel upgrade changes: modules, kABI, hardware, consumers' \
    'modprobe:what modprobe would load, offline: -D, -R, -c (kmod compatible)' \
    'modinfo:show a module'"'"'s information, offline (kmod modinfo compatible)' \
    'why:what modprobe NAME would do and where it would stop, offline' \
    'devices:which modules udev would load for a machine'"'"'s devices, from a tree' \
    'dump-index:print the contents of kmod binary index files' \
    'version:print the version' \
    'help:show the commands'
    set -l name (string split -m1 : -- $entry)
    complete -c modatlas -n __modatlas_no_command -a $name[1] -d $name[2]
    functions -q __modatlas_complete_$name[1]
    and __modatlas_complete_$name[1] modatlas "__fish_seen_subcommand_from $name[1]"
end
