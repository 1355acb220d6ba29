"""Everything under the index folder: manifest, report files, Chroma rows, BM25, embeddings, the write path and its lock."""
