# fish completion for depmod where the modatlas-depmod package made modatlas
# the system's depmod.
source (status dirname)/modatlas.fish
complete -c depmod -f
__modatlas_complete_depmod depmod true
