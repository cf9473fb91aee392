// Message layout: int32 nice, uint32 cgroup files, uint32 clone into cgroup (0 or 1),
// uint32 argument count, each argument as uint32 length + bytes, then the same for the
// environment. A reply is three int32: pid, errno and process group. Both
// ends are the same build on the same machine: host byte order.
#include "worker/zygote_protocol.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace sofaas::zygote {
namespace {

void append_raw(std::string& out, const void* bytes, size_t size) {
    out.append(static_cast<const char*>(bytes), size);
}

void append_strings(std::string& out, const std::vector<std::string>& strings) {
    const auto count = static_cast<uint32_t>(strings.size());
    append_raw(out, &count, sizeof count);
    for (const std::string& string : strings) {
        const auto size = static_cast<uint32_t>(string.size());
        append_raw(out, &size, sizeof size);
        out.append(string);
    }
}

class Reader {
public:
    explicit Reader(std::string_view message) : rest_(message) {}

    template <typename Number>
    bool number(Number& value) {
        if (rest_.size() < sizeof value) return false;
        std::memcpy(&value, rest_.data(), sizeof value);
        rest_.remove_prefix(sizeof value);
        return true;
    }

    // Strings with an embedded NUL could not be an argv or envp entry.
    bool strings(std::vector<std::string>& values) {
        uint32_t count = 0;
        if (!number(count) || count > rest_.size() / sizeof(uint32_t)) return false;
        values.reserve(count);
        for (uint32_t i = 0; i < count; ++i) {
            uint32_t size = 0;
            if (!number(size) || size > rest_.size()) return false;
            const std::string_view value = rest_.substr(0, size);
            if (value.find('\0') != std::string_view::npos) return false;
            values.emplace_back(value);
            rest_.remove_prefix(size);
        }
        return true;
    }

    bool at_end() const { return rest_.empty(); }

private:
    std::string_view rest_;
};

}  // namespace

size_t request_descriptors(const SpawnRequest& request) {
    return worker_descriptors + request.cgroup_files + (request.clone_into_cgroup ? 1 : 0);
}

std::string encode(const SpawnRequest& request) {
    std::string out;
    append_raw(out, &request.nice, sizeof request.nice);
    append_raw(out, &request.cgroup_files, sizeof request.cgroup_files);
    const uint32_t clone_into_cgroup = request.clone_into_cgroup ? 1 : 0;
    append_raw(out, &clone_into_cgroup, sizeof clone_into_cgroup);
    append_strings(out, request.arguments);
    append_strings(out, request.environment);
    return out;
}

std::string encode(const SpawnReply& reply) {
    const int32_t fields[3] = {reply.pid, reply.error, reply.process_group};
    return std::string(reinterpret_cast<const char*>(fields), sizeof fields);
}

std::optional<SpawnRequest> decode_spawn_request(std::string_view message) {
    Reader reader(message);
    SpawnRequest request;
    uint32_t clone_into_cgroup = 0;
    if (!reader.number(request.nice) || !reader.number(request.cgroup_files) || !reader.number(clone_into_cgroup) ||
        !reader.strings(request.arguments) || !reader.strings(request.environment) || !reader.at_end() ||
        request.arguments.empty() || clone_into_cgroup > 1)
        return std::nullopt;
    request.clone_into_cgroup = clone_into_cgroup == 1;
    if (request_descriptors(request) > max_request_descriptors) return std::nullopt;
    return request;
}

std::optional<SpawnReply> decode_spawn_reply(std::string_view message) {
    Reader reader(message);
    int32_t pid = 0;
    int32_t error = 0;
    int32_t process_group = 0;
    if (!reader.number(pid) || !reader.number(error) || !reader.number(process_group) || !reader.at_end())
        return std::nullopt;
    return SpawnReply{pid, error, process_group};
}

int send_message(int socket, std::string_view message, const int* fds, size_t fd_count) {
    iovec part{const_cast<char*>(message.data()), message.size()};
    msghdr header{};
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_request_descriptors)] = {};
    if (fd_count > 0) {
        if (fd_count > max_request_descriptors) return EINVAL;
        header.msg_control = control;
        header.msg_controllen = CMSG_SPACE(sizeof(int) * fd_count);
        cmsghdr* rights = CMSG_FIRSTHDR(&header);
        rights->cmsg_level = SOL_SOCKET;
        rights->cmsg_type = SCM_RIGHTS;
        rights->cmsg_len = CMSG_LEN(sizeof(int) * fd_count);
        std::memcpy(CMSG_DATA(rights), fds, sizeof(int) * fd_count);
    }
    ssize_t sent;
    do {
        sent = ::sendmsg(socket, &header, MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) return errno;
    return static_cast<size_t>(sent) == message.size() ? 0 : EMSGSIZE;
}

Received receive_message(int socket, std::string& message, std::vector<int>& fds) {
    // Not zero-filled, and not kept between calls: in the zygote, a large buffer written
    // again after a fork would leave every worker forked before with its own private
    // copy of it (copy-on-write), some 256 KiB each.
    const std::unique_ptr<char[]> buffer(new char[max_message_bytes]);
    iovec part{buffer.get(), max_message_bytes};
    msghdr header{};
    header.msg_iov = &part;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * max_request_descriptors)] = {};
    header.msg_control = control;
    header.msg_controllen = sizeof control;
    ssize_t got;
    do {
        got = ::recvmsg(socket, &header, MSG_CMSG_CLOEXEC);
    } while (got < 0 && errno == EINTR);
    fds.clear();
    for (cmsghdr* item = CMSG_FIRSTHDR(&header); item; item = CMSG_NXTHDR(&header, item)) {
        if (item->cmsg_level != SOL_SOCKET || item->cmsg_type != SCM_RIGHTS) continue;
        const size_t count = (item->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
            int fd;
            std::memcpy(&fd, CMSG_DATA(item) + i * sizeof(int), sizeof fd);
            fds.push_back(fd);
        }
    }
    if (got < 0) return Received::broken;
    message.assign(buffer.get(), static_cast<size_t>(got));
    if (got == 0 && fds.empty()) return Received::closed;
    if (header.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) return Received::broken;
    return Received::message;
}

}  // namespace sofaas::zygote
