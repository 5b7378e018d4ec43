# fish completion for modatlas-depmod: modatlas's depmod command.
source (status dirname)/modatlas.fish
complete -c modatlas-depmod -f
__modatlas_complete_depmod modatlas-depmod true
