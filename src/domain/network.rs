//! Who is on the other end of a request: the client address behind trusted proxies, and the
//! request rates a client may use.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// The proxies whose forwarding headers are believed (`--trusted-proxies`): none by default,
/// so the TCP peer is the client.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client's address: the peer itself unless it is a trusted proxy; then the rightmost
    /// hop of the forwarding chain that is not a trusted proxy (hops left of it could have been
    /// written by anyone). `X-Forwarded-For` is read when present, else `Forwarded`'s `for=`:
    /// a proxy that writes only `Forwarded` must drop a client's `X-Forwarded-For`.
    pub fn client_address<'a>(
        &self,
        peer: IpAddr,
        forwarded_for: impl Iterator<Item = &'a str>,
        forwarded: impl Iterator<Item = &'a str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let mut hops: Vec<&str> = forwarded_for.flat_map(|h| h.split(',')).map(str::trim).collect();
        if hops.is_empty() {
            hops = forwarded.flat_map(|h| h.split(',')).filter_map(forwarded_for_value).collect();
        }
        let mut client = peer;
        for hop in hops.iter().rev() {
            // An unreadable hop ("unknown", a typo): the last address we could trust stands.
            let Some(ip) = parse_hop(hop) else { return client };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// `CIDR,CIDR,...`; a bare address means that one address.
    fn from_str(s: &str) -> Result<Self, String> {
        let nets = s
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
            .map(|part| {
                part.parse::<IpNet>()
                    .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("{part:?} is not an address or CIDR range (like 10.0.0.0/8 or 192.0.2.7)"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self(nets))
    }
}

/// IPv4 addresses mapped into IPv6 (`::ffff:1.2.3.4`) compare as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The `for=` value of one `Forwarded` element (`for=192.0.2.60;proto=http`).
fn forwarded_for_value(element: &str) -> Option<&str> {
    element.split(';').map(str::trim).find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then(|| value.trim())
    })
}

/// An address from a forwarding hop: `1.2.3.4`, `1.2.3.4:5678`, `"[2001:db8::1]:80"`, `2001:db8::1`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse().ok()).map(canonical);
    }
    hop.parse::<std::net::SocketAddr>().ok().map(|addr| canonical(addr.ip()))
}

/// A request rate: so many per second or per minute, or none at all (`off`). The count is
/// also the burst: `30/min` allows 30 at once, then one every 2 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    Off,
    PerSecond(u32),
    PerMinute(u32),
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("off") {
            return Ok(Rate::Off);
        }
        let wrong = || format!("{s:?} is not a rate: write N/s, N/min (N from 1) or off");
        let (count, unit) = s.split_once('/').ok_or_else(wrong)?;
        let count: u32 = count.trim().parse().ok().filter(|n| *n > 0).ok_or_else(wrong)?;
        match unit.trim() {
            "s" | "sec" | "second" => Ok(Rate::PerSecond(count)),
            "m" | "min" | "minute" => Ok(Rate::PerMinute(count)),
            _ => Err(wrong()),
        }
    }
}

impl std::fmt::Display for Rate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rate::Off => f.write_str("off"),
            Rate::PerSecond(n) => write!(f, "{n}/s"),
            Rate::PerMinute(n) => write!(f, "{n}/min"),
        }
    }
}

/// What one client may use of the shopper API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShopperLimits {
    /// Requests per client address, over the whole shopper API.
    pub per_address: Rate,
    /// New conversations per client address.
    pub new_conversations: Rate,
    /// Requests per conversation.
    pub per_conversation: Rate,
    /// Open event streams per conversation (tabs of one shopper).
    pub streams_per_conversation: usize,
    /// Open event streams per client address (shoppers behind one address).
    pub streams_per_address: usize,
}

impl Default for ShopperLimits {
    fn default() -> Self {
        Self {
            per_address: Rate::PerSecond(30),
            new_conversations: Rate::PerMinute(30),
            per_conversation: Rate::PerSecond(5),
            streams_per_conversation: 4,
            streams_per_address: 200,
        }
    }
}

impl ShopperLimits {
    /// No limits at all (load tests from one address).
    pub fn off() -> Self {
        Self {
            per_address: Rate::Off,
            new_conversations: Rate::Off,
            per_conversation: Rate::Off,
            streams_per_conversation: usize::MAX,
            streams_per_address: usize::MAX,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_address(ip("203.0.113.9"), ["1.1.1.1"].into_iter(), std::iter::empty()),
            ip("203.0.113.9")
        );
        let proxies: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        assert_eq!(
            proxies.client_address(ip("203.0.113.9"), ["1.1.1.1"].into_iter(), std::iter::empty()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let proxies: TrustedProxies = "10.0.0.0/8, 192.0.2.7".parse().unwrap();
        // The shopper forged the first entry; our proxies appended the real ones.
        let xff = ["6.6.6.6, 198.51.100.4", "192.0.2.7"];
        assert_eq!(proxies.client_address(ip("10.1.2.3"), xff.into_iter(), std::iter::empty()), ip("198.51.100.4"));
        // Only proxies in the chain: the leftmost.
        assert_eq!(
            proxies.client_address(ip("10.1.2.3"), ["10.9.9.9"].into_iter(), std::iter::empty()),
            ip("10.9.9.9")
        );
        // No header: the proxy itself.
        assert_eq!(proxies.client_address(ip("10.1.2.3"), std::iter::empty(), std::iter::empty()), ip("10.1.2.3"));
        // Garbage stops the walk at the last address we could trust.
        assert_eq!(proxies.client_address(ip("10.1.2.3"), ["unknown"].into_iter(), std::iter::empty()), ip("10.1.2.3"));
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let proxies: TrustedProxies = "127.0.0.1".parse().unwrap();
        let fwd = ["for=\"[2001:db8::1]:4711\";proto=https, for=198.51.100.17"];
        assert_eq!(proxies.client_address(ip("127.0.0.1"), std::iter::empty(), fwd.into_iter()), ip("198.51.100.17"));
        let fwd = ["for=\"[2001:db8::1]:4711\""];
        assert_eq!(proxies.client_address(ip("127.0.0.1"), std::iter::empty(), fwd.into_iter()), ip("2001:db8::1"));
        assert_eq!(
            proxies.client_address(ip("::ffff:127.0.0.1"), ["198.51.100.3:443"].into_iter(), fwd.into_iter()),
            ip("198.51.100.3"),
            "a mapped IPv4 peer is trusted like the plain one, and X-Forwarded-For wins"
        );
    }

    #[test]
    fn bad_proxy_lists_and_rates_say_what_is_wrong() {
        assert!("10.0.0.0/33".parse::<TrustedProxies>().unwrap_err().contains("10.0.0.0/33"));
        assert_eq!("".parse::<TrustedProxies>().unwrap(), TrustedProxies::default());
        assert_eq!("30/min".parse::<Rate>().unwrap(), Rate::PerMinute(30));
        assert_eq!("5/s".parse::<Rate>().unwrap(), Rate::PerSecond(5));
        assert_eq!("OFF".parse::<Rate>().unwrap(), Rate::Off);
        assert!("0/s".parse::<Rate>().is_err());
        assert!("5/h".parse::<Rate>().unwrap_err().contains("N/s"));
    }
}
