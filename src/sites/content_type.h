// The Content-Type a site's file is served with, by its extension. Text types say UTF-8:
// a browser guessing another charset is how a page's text turns into a script.
#pragma once

#include <string_view>

namespace sofaas {

// "app.js" -> "text/javascript; charset=utf-8"; an unknown extension (or none) is
// "application/octet-stream", which a browser downloads instead of rendering.
std::string_view content_type_for(std::string_view file_name);

}  // namespace sofaas
