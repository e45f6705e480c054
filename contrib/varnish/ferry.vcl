# contrib/varnish/ferry.vcl — Varnish in front of ferry's edge, taking the purges ferry
# sends when a site is invalidated (docs/edge.md, "Purge targets"):
#   PURGE <url>             drop every cached variant of exactly this URL
#   BAN / + X-Ferry-Ban: RE drop every cached object whose URL matches RE (^/www/img/)
# with X-Ferry-Host: HOST when only objects fetched with that Host must go.
# Both become bans on the URL (and host) each object remembers (X-Ferry-Url and
# X-Ferry-Host, never shown to clients), so a purge works whatever Host the clients used.
#
# Use: varnishd -a 127.0.0.1:6081 -f /path/to/ferry.vcl ...   and change the backend's
# port to the edge's (`ferry serve --edge`, default 7879); then
#   ferry site purge-target add SITE varnish=http://127.0.0.1:6081
vcl 4.1;

import std;

backend ferry_edge {
	.host = "127.0.0.1";
	.port = "7879";
}

# Who may purge: the machine itself (ferry sends from the loopback only).
acl ferry_purgers {
	"127.0.0.1";
	"::1";
}

sub vcl_recv {
	if (req.method == "PURGE" || req.method == "BAN") {
		if (client.ip !~ ferry_purgers) {
			return (synth(403, "Forbidden"));
		}
		if (req.method == "PURGE") {
			set req.http.X-Ferry-Expr = "obj.http.X-Ferry-Url == " + req.url;
		} else if (req.http.X-Ferry-Ban) {
			set req.http.X-Ferry-Expr = "obj.http.X-Ferry-Url ~ " + req.http.X-Ferry-Ban;
		} else {
			return (synth(400, "BAN needs an X-Ferry-Ban header"));
		}
		if (req.http.X-Ferry-Host) {
			set req.http.X-Ferry-Expr = req.http.X-Ferry-Expr +
			    " && obj.http.X-Ferry-Host == " + std.tolower(req.http.X-Ferry-Host);
		}
		if (std.ban(req.http.X-Ferry-Expr)) {
			return (synth(200, "Purged"));
		}
		return (synth(400, std.ban_error()));
	}
}

sub vcl_backend_response {
	# what the bans above look at
	set beresp.http.X-Ferry-Url = bereq.url;
	set beresp.http.X-Ferry-Host = std.tolower(regsub(bereq.http.Host, ":[0-9]+$", ""));
}

sub vcl_deliver {
	unset resp.http.X-Ferry-Url;
	unset resp.http.X-Ferry-Host;
}
