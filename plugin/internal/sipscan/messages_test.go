package sipscan

// Realistic messages (about 1 KB each) for the allocation test, the
// benchmark and the fuzz seed corpus.

const registerMsg = "REGISTER sip:registrar.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/TCP 192.0.2.10:5060;branch=z9hG4bK-524287-1---c2b9f0e3a1d4;rport;keep\r\n" +
	"Via: SIP/2.0/UDP [2001:db8::10]:5062;branch=z9hG4bK-1a2b3c4d;received=2001:db8::10;rport=5062\r\n" +
	"Max-Forwards: 70\r\n" +
	"Contact: \"Alice Example\" <sip:alice@192.0.2.10:5060;transport=tcp;ob>;reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>\";expires=3600\r\n" +
	"To: \"Alice Example\" <sip:alice@example.com>\r\n" +
	"From: \"Alice Example\" <sip:alice@example.com>;tag=9f8e7d6c\r\n" +
	"Call-ID: NzQ4ZWY3YmQ2NTNjZGE2YjQ0ZmFjOWE3ODdkNWE4ZTc\r\n" +
	"CSeq: 2 REGISTER\r\n" +
	"Expires: 3600\r\n" +
	"Allow: INVITE, ACK, CANCEL, BYE, NOTIFY, REFER, MESSAGE, OPTIONS, INFO, SUBSCRIBE, UPDATE, PRACK\r\n" +
	"Supported: replaces, norefersub, extended-refer, timer, outbound, path, X-cisco-serviceuri\r\n" +
	"User-Agent: Example Softphone 5.4.3 rv2.10.18.3\r\n" +
	"Authorization: Digest username=\"alice\",realm=\"example.com\",nonce=\"Y2M4NDRkMDQ0NDQ0NjQ0NjQ0\"," +
	"uri=\"sip:registrar.example.com\",response=\"0123456789abcdef0123456789abcdef\",algorithm=MD5," +
	"cnonce=\"a1b2c3d4\",qop=auth,nc=00000001\r\n" +
	"Allow-Events: presence, kpml, talk, as-feature-event\r\n" +
	"Accept: application/sdp, application/pidf+xml, message/sipfrag\r\n" +
	"Content-Length: 0\r\n" +
	"\r\n"

const inviteMsg = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n" +
	"Via: SIP/2.0/UDP proxy.atlanta.example.com:5060;branch=z9hG4bK2d4790.1;received=198.51.100.7\r\n" +
	"v: SIP/2.0/TCP pc33.atlanta.example.com;branch=z9hG4bK776asdhds ;keep=30,\r\n" +
	" SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKnashds8;x=\"a,b;c\"\r\n" +
	"Max-Forwards: 69\r\n" +
	"Record-Route: <sip:proxy.atlanta.example.com;lr>, <sip:edge.atlanta.example.com;lr>\r\n" +
	"To: Bob <sip:bob@biloxi.example.com>\r\n" +
	"From: \"Alice <A;,>\" <sip:alice@atlanta.example.com;tag=uri>;tag=1928301774\r\n" +
	"i: a84b4c76e66710@pc33.atlanta.example.com\r\n" +
	"CSeq: 314159 INVITE\r\n" +
	"m: <sip:alice@pc33.atlanta.example.com;transport=tcp>\r\n" +
	"Require: outbound\r\n" +
	"Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, MESSAGE, SUBSCRIBE, INFO, UPDATE\r\n" +
	"Session-Expires: 1800;refresher=uac\r\n" +
	"P-Asserted-Identity: \"Alice\" <sip:alice@atlanta.example.com>\r\n" +
	"Content-Type: application/sdp\r\n" +
	"Content-Length: 142\r\n" +
	"\r\n" +
	"v=0\r\n" +
	"o=alice 53655765 2353687637 IN IP4 pc33.atlanta.example.com\r\n" +
	"s=-\r\n" +
	"c=IN IP4 pc33.atlanta.example.com\r\n" +
	"t=0 0\r\n" +
	"m=audio 3456 RTP/AVP 0 1 3 99\r\n"

const okMsg = "SIP/2.0 200 OK\r\n" +
	"Via: SIP/2.0/UDP client.example.com:5060;branch=z9hG4bK74bf9;keep=15;received=192.0.2.4\r\n" +
	"From: <sip:alice@example.com>;tag=456248\r\n" +
	"To: <sip:alice@example.com>;tag=2493k59kd\r\n" +
	"Call-ID: 843817637684230@998sdasdh09\r\n" +
	"CSeq: 1826 REGISTER\r\n" +
	"Contact: <sip:alice@192.0.2.4>;expires=600, <sip:alice@198.51.100.1>;expires=3600\r\n" +
	"Flow-Timer: 15\r\n" +
	"Content-Length: 0\r\n\r\n"
