// Which precompressed copy of a file a client may get, by its Accept-Encoding (RFC 9110
// 12.5.3). A site ships app.js.br and app.js.gz beside app.js; sofaasd compresses nothing
// itself, so serving a file costs no CPU for compression.
#pragma once

#include <string_view>

namespace sofaas {

enum class ContentCoding { identity, gzip, br };

// "br", "gzip" (the Content-Encoding value and the file suffix without the dot).
std::string_view coding_name(ContentCoding coding);

// Whether `accept_encoding` admits `coding` with a q-value above 0, by name or by "*".
// No header admits none but identity.
bool accepts_coding(std::string_view accept_encoding, ContentCoding coding);

}  // namespace sofaas
