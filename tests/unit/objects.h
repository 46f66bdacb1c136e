/* JSON text of Service and Endpoints objects for the unit tests:
 * SVC(name, ip, extra spec members, ports), EPS(name, addresses, ports)
 * with A(ip) addresses; names in the default namespace. */
#ifndef SVCNFT_TEST_OBJECTS_H
#define SVCNFT_TEST_OBJECTS_H

#define SVC(name, ip, extra, ports) \
	"{\"kind\":\"Service\",\"metadata\":{\"name\":\"" name "\"},\"spec\":{\"clusterIP\":\"" ip "\"" \
	extra ",\"ports\":[" ports "]}}"
#define EPS(name, ips, ports) \
	"{\"kind\":\"Endpoints\",\"metadata\":{\"name\":\"" name "\"},\"subsets\":[{\"addresses\":[" ips \
	"],\"ports\":[" ports "]}]}"
#define A(ip) "{\"ip\":\"" ip "\"}"

#endif
