/* cli_pxe.c - `tinyboot pxe-config`: the daemon's dnsmasq lines, for a dnsmasq of one's own. */
#include <stdio.h>
#include <string.h>

#include "cli/cli_http.h"
#include "cli/cli_pxe.h"

int cli_pxe_config(const struct cli *cli)
{
	struct cli_http_buf buf = { NULL, 0 };
	long status;

	status = cli_http_api(cli->server, "/api/v1/pxe/config", NULL, &buf);
	if (status == 200) {
		fwrite(buf.data, 1, buf.len, stdout);
	} else if (status > 0) {
		/* the daemon's "409 Conflict: what to set" */
		fprintf(stderr, "tinyboot: pxe-config: %s%s", buf.data,
			buf.len && buf.data[buf.len - 1] == '\n' ? "" : "\n");
	}
	cli_http_buf_free(&buf);
	return status == 200 ? 0 : 1;
}
