// Loopback inet addresses without a running kernel: the v4-mapped form,
// the wildcards, which destinations count as loopback (everything else is
// ENETUNREACH under ward), and the sockaddr each family reports.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

#include "sentry/net/inet_endpoint.h"

namespace ward::net {
namespace {

InetAddress parse_v4(const char* text, uint16_t port) {
  in_addr address{};
  EXPECT_EQ(inet_pton(AF_INET, text, &address), 1) << text;
  return InetAddress::from_v4(ntohl(address.s_addr), port);
}

InetAddress parse_v6(const char* text, uint16_t port) {
  InetAddress address;
  EXPECT_EQ(inet_pton(AF_INET6, text, address.ip.data()), 1) << text;
  address.port = port;
  return address;
}

TEST(InetAddress, V4IsKeptMapped) {
  const InetAddress address = parse_v4("127.0.0.1", 80);
  EXPECT_TRUE(address.is_v4());
  EXPECT_EQ(address.v4(), INADDR_LOOPBACK);
  EXPECT_EQ(address, parse_v6("::ffff:127.0.0.1", 80));
}

TEST(InetAddress, WildcardsStayDistinct) {
  EXPECT_TRUE(parse_v4("0.0.0.0", 0).is_v4_any());
  EXPECT_FALSE(parse_v4("0.0.0.0", 0).is_v6_any());
  EXPECT_TRUE(parse_v6("::", 0).is_v6_any());
  EXPECT_FALSE(parse_v6("::", 0).is_v4_any());
}

TEST(InetAddress, LoopbackDestinations) {
  EXPECT_TRUE(parse_v4("127.0.0.1", 1).is_loopback());
  EXPECT_TRUE(parse_v4("127.255.0.9", 1).is_loopback());
  EXPECT_TRUE(parse_v6("::1", 1).is_loopback());
  EXPECT_TRUE(parse_v6("::ffff:127.0.0.2", 1).is_loopback());
}

TEST(InetAddress, OffLoopbackDestinations) {
  EXPECT_FALSE(parse_v4("10.0.0.1", 1).is_loopback());
  EXPECT_FALSE(parse_v4("128.0.0.1", 1).is_loopback());
  EXPECT_FALSE(parse_v4("169.254.169.254", 1).is_loopback());
  EXPECT_FALSE(parse_v6("::2", 1).is_loopback());
  EXPECT_FALSE(parse_v6("fe80::1", 1).is_loopback());
  EXPECT_FALSE(parse_v6("::ffff:10.0.0.1", 1).is_loopback());
}

TEST(InetAddress, SocketAddressOfEachFamily) {
  const SocketAddress v4 = to_socket_address(AF_INET, parse_v4("127.0.0.1", 8080));
  ASSERT_EQ(v4.size(), sizeof(sockaddr_in));
  sockaddr_in in{};
  std::memcpy(&in, v4.data(), sizeof(in));
  EXPECT_EQ(in.sin_family, AF_INET);
  EXPECT_EQ(ntohs(in.sin_port), 8080);
  EXPECT_EQ(ntohl(in.sin_addr.s_addr), INADDR_LOOPBACK);

  const SocketAddress mapped = to_socket_address(AF_INET6, parse_v4("127.0.0.1", 8080));
  ASSERT_EQ(mapped.size(), sizeof(sockaddr_in6));
  sockaddr_in6 in6{};
  std::memcpy(&in6, mapped.data(), sizeof(in6));
  EXPECT_EQ(in6.sin6_family, AF_INET6);
  EXPECT_EQ(ntohs(in6.sin6_port), 8080);
  EXPECT_TRUE(IN6_IS_ADDR_V4MAPPED(&in6.sin6_addr));
}

TEST(InetAddress, UnspecifiedSocketAddress) {
  EXPECT_EQ(unspecified_socket_address(AF_INET).size(), sizeof(sockaddr_in));
  EXPECT_EQ(unspecified_socket_address(AF_INET6).size(), sizeof(sockaddr_in6));
  const SocketAddress v4 = unspecified_socket_address(AF_INET);
  sockaddr_in in{};
  std::memcpy(&in, v4.data(), sizeof(in));
  EXPECT_EQ(in.sin_family, AF_INET);
  EXPECT_EQ(in.sin_port, 0);
  EXPECT_EQ(in.sin_addr.s_addr, INADDR_ANY);
}

}  // namespace
}  // namespace ward::net
