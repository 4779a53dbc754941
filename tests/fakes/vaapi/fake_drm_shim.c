/*
 * fake_drm_shim — LD_PRELOAD shim for tests: makes libva-drm accept any fd (e.g. /dev/null) as
 * a DRM render node, so vaGetDisplayDRM works where there is no GPU. Test-only; see
 * tests/fakes/README-hardware.md.
 */
#include <xf86drm.h>

int drmGetNodeTypeFromFd(int fd)
{
    return fd >= 0 ? DRM_NODE_RENDER : -1;
}
