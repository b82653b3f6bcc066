import { describe, expect, it } from 'vitest';
import { renderCertsRenewUnits } from '../../../src/render/systemd-certs.js';

describe('the certificate renewal units', () => {
  it('run `podvoy certs renew` hourly, quoting what systemd would split', () => {
    const units = renderCertsRenewUnits({
      specName: 'shop',
      podvoy: ['/usr/bin/node', '/opt/my podvoy/bin/podvoy.js'],
      env: { PODVOY_STATE_DIR: '/var/lib/podvoy', PODVOY_RUN_DIR: '/run/100%' },
    });
    expect(units.service.name).toBe('podvoy-certs-shop.service');
    expect(units.timer.name).toBe('podvoy-certs-shop.timer');
    expect(units.service.text).toContain('ExecStart=/usr/bin/node "/opt/my podvoy/bin/podvoy.js" certs renew shop\n');
    expect(units.service.text).toContain('Environment=PODVOY_STATE_DIR=/var/lib/podvoy\nEnvironment="PODVOY_RUN_DIR=/run/100%%"\n');
    expect(units.timer.text).toMatch(/^OnUnitActiveSec=1h$/m);
    expect(units.timer.text).toMatch(/^WantedBy=timers.target$/m);
  });

  it('name the spec file when there is one, which an ACME order needs', () => {
    const units = renderCertsRenewUnits({ specName: 'shop', specFile: '/srv/shop/podvoy.yaml', podvoy: ['/usr/bin/node', '/opt/podvoy/bin/podvoy.js'], env: {} });
    expect(units.service.text).toContain('ExecStart=/usr/bin/node /opt/podvoy/bin/podvoy.js certs renew /srv/shop/podvoy.yaml\n');
  });
});
