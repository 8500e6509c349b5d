#include <cstdint>
namespace faiss { using idx_t = int64_t; }  // faiss >= 1.7.4 has faiss::idx_t; Debian's 1.7.3 only Index::idx_t
