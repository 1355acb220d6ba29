"""Finding passages: dense and keyword rankings fused under filters; questions mended to the library's words."""
