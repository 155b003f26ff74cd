"""Reading a screenshot's pixels in the browser that drew it.

The PNG is decoded in place (from base64, through a Blob), not fetched from a ``data:`` URL: the
pages' Content-Security-Policy (connect-src 'self') refuses that fetch.
"""

from __future__ import annotations

_DECODED = """
  const bytes = Uint8Array.from(atob(png), c => c.charCodeAt(0));
  const image = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
  const canvas = new OffscreenCanvas(image.width, image.height);
  const g = canvas.getContext('2d');
  g.drawImage(image, 0, 0);
"""


def on_screenshot(params: str, body: str) -> str:
    """Return an async page function of ``params`` (naming ``png``) running ``body`` with ``image`` and ``g`` drawn."""
    return f"async ({params}) => {{{_DECODED}{body}}}"
