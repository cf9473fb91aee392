#include "gateway/response_head.h"

#include <charconv>
#include <cstdint>
#include <stdexcept>

#include "gateway/http_message.h"

namespace sofaas {
namespace {

// The reason phrases Beast wrote (boost/beast/http/status.hpp), so clients see the status
// lines they saw before. A status without one gets an empty reason, which HTTP/1.1 allows
// ("HTTP/1.1 418 "), where Beast wrote "<unknown-status>".
std::string_view reason_phrase(int status) {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 102: return "Processing";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 203: return "Non-Authoritative Information";
        case 204: return "No Content";
        case 205: return "Reset Content";
        case 206: return "Partial Content";
        case 207: return "Multi-Status";
        case 208: return "Already Reported";
        case 226: return "IM Used";
        case 300: return "Multiple Choices";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 305: return "Use Proxy";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 402: return "Payment Required";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 407: return "Proxy Authentication Required";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Payload Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 421: return "Misdirected Request";
        case 422: return "Unprocessable Entity";
        case 423: return "Locked";
        case 424: return "Failed Dependency";
        case 426: return "Upgrade Required";
        case 428: return "Precondition Required";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 444: return "Connection Closed Without Response";
        case 451: return "Unavailable For Legal Reasons";
        case 499: return "Client Closed Request";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        case 506: return "Variant Also Negotiates";
        case 507: return "Insufficient Storage";
        case 508: return "Loop Detected";
        case 510: return "Not Extended";
        case 511: return "Network Authentication Required";
        case 599: return "Network Connect Timeout Error";
        default: return "";
    }
}

// The server frames the message and names itself; a function must not choose these.
bool is_set_by_server(std::string_view name) {
    return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") || iequals(name, "Connection") ||
           iequals(name, "Keep-Alive") || iequals(name, "Server") || iequals(name, "X-Sofaas-Request-Id");
}

// Whitespace around a value is not part of it (RFC 9110 5.5); Beast trimmed it too.
std::string_view trim_whitespace(std::string_view value) {
    const size_t first = value.find_first_not_of(" \t");
    if (first == std::string_view::npos) return {};
    return value.substr(first, value.find_last_not_of(" \t") - first + 1);
}

void append_decimal(std::string& out, uint64_t value) {
    char text[20];  // 2^64 - 1 has 20 digits
    out.append(text, std::to_chars(text, text + sizeof text, value).ptr);
}

void append_status_line(std::string& out, unsigned http_version, int status) {
    if (status < 100 || status > 999) {
        throw std::invalid_argument("HTTP status " + std::to_string(status) + " is not three digits");
    }
    out += "HTTP/";
    append_decimal(out, http_version / 10);
    out += '.';
    append_decimal(out, http_version % 10);
    out += ' ';
    append_decimal(out, static_cast<size_t>(status));
    out += ' ';
    out += reason_phrase(status);
    out += "\r\n";
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
}

}  // namespace

void append_response_head(std::string& out, const HttpResponseParts& response, std::string_view request_id,
                          ResponseFraming framing) {
    append_status_line(out, framing.http_version, response.status);
    for (const auto& [name, value] : response.headers) {
        // http_event.cpp already refuses such function output; this keeps any other caller
        // from writing a second response (or a header of its choosing) into this one.
        if (is_set_by_server(name) || !is_valid_header(name, value)) continue;
        append_header(out, name, trim_whitespace(value));
    }
    append_header(out, "Server", "sofaasd");
    append_header(out, "X-Sofaas-Request-Id", request_id);
    // Each version's default needs no header: HTTP/1.1 keeps the connection, 1.0 closes it.
    const bool http_1_0 = framing.http_version < 11;
    if (http_1_0 && framing.keep_alive) append_header(out, "Connection", "keep-alive");
    if (!http_1_0 && !framing.keep_alive) append_header(out, "Connection", "close");
    if (framing.streamed) {
        if (!http_1_0) append_header(out, "Transfer-Encoding", "chunked");
    } else if (has_body(response.status)) {
        out += "Content-Length: ";
        append_decimal(out, framing.content_length.value_or(response.body_bytes().size()));
        out += "\r\n";
    }
    out += "\r\n";
}

bool has_body(int status) {
    return status != 204 && status != 304;
}

void append_continue_head(std::string& out, unsigned http_version) {
    append_status_line(out, http_version, 100);
    out += "\r\n";
}

}  // namespace sofaas
