import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';

import { loadConfig } from '../../src/config/index.js';
import { ENV_ALIASES } from '../../src/config/env.js';
import { describeWithService, type ServiceAvailability } from '../support/services.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are free-form YAML */

const root = join(dirname(fileURLToPath(import.meta.url)), '../../../..');
const k8sDir = join(root, 'deploy/kubernetes');
const knownEnv = new Set(ENV_ALIASES.map((a) => a.name));

/** The server accepts these settings (names and values), as it would read them at start. */
function expectServerAccepts(env: Record<string, string>): void {
  for (const name of Object.keys(env)) expect(knownEnv, `unknown variable ${name}`).toContain(name);
  const dir = mkdtempSync(join(tmpdir(), 'elz-deploy-'));
  try {
    const { config } = loadConfig({ env, cwd: dir, homeDir: dir });
    expect(config.storage.backend).toBe('s3');
    expect(config.database.url).toMatch(/^postgres(ql)?:\/\//);
    expect(config.realtime.redis_url).toMatch(/^rediss?:\/\//);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function binary(name: string, args: string[]): ServiceAvailability {
  const probe = spawnSync(name, args, { encoding: 'utf8' });
  return probe.status === 0 ? { available: true } : { available: false, reason: `no ${name} binary` };
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const files = readdirSync(k8sDir).filter((f) => f.endsWith('.yaml'));
  const docs: any[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(join(k8sDir, file), 'utf8'))) {
      expect(doc.errors, file).toEqual([]);
      const value = doc.toJS();
      if (value) docs.push({ ...value, __file: file });
    }
  }
  const one = (kind: string) => {
    const found = docs.filter((d) => d.kind === kind);
    expect(found, kind).toHaveLength(1);
    return found[0];
  };
  const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
    Object.entries(selector).every(([k, v]) => labels[k] === v);

  it('parses, and every resource has a kind, a name and the one namespace', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
    for (const doc of docs.filter((d) => d.kind !== 'Kustomization')) {
      expect(doc.apiVersion, doc.__file).toBeTruthy();
      expect(doc.metadata?.name, doc.__file).toBeTruthy();
      if (doc.kind !== 'Namespace') expect(doc.metadata.namespace, doc.__file).toBe('elizabeth');
    }
    const kustomization = one('Kustomization');
    expect([...kustomization.resources].sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml').sort(),
    );
  });

  it('runs ≥ 2 non-root replicas on a read-only root, probed on /api/v1/health', () => {
    const deployment = one('Deployment');
    expect(deployment.spec.replicas).toBeGreaterThanOrEqual(2);
    const pod = deployment.spec.template.spec;
    expect(matches(deployment.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(
      true,
    );
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(pod.securityContext.runAsUser).toBeGreaterThan(0);
    expect(pod.containers).toHaveLength(1);
    const container = pod.containers[0];
    expect(container.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    const ports = new Map<string, number>(container.ports.map((p: any) => [p.name, p.containerPort]));
    expect(ports.get('http')).toBe(4092);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      expect(container[probe]?.httpGet?.path, probe).toBe('/api/v1/health');
      expect(ports.get(container[probe].httpGet.port) ?? container[probe].httpGet.port, probe).toBe(4092);
    }
    // Writable places are volumes: /tmp (S3 part buffers) and the data directory.
    const volumes = new Set(pod.volumes.map((v: any) => v.name));
    const mounts = container.volumeMounts.map((m: any) => m.mountPath);
    expect(mounts).toEqual(expect.arrayContaining(['/tmp', '/app/data']));
    for (const mount of container.volumeMounts) expect(volumes).toContain(mount.name);
    // Rolling updates never drop below the replica count.
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('configures the replicas for PostgreSQL, Redis and S3 through a ConfigMap and a Secret', () => {
    const deployment = one('Deployment');
    const configMap = one('ConfigMap');
    const secret = one('Secret');
    const envFrom = deployment.spec.template.spec.containers[0].envFrom;
    expect(envFrom).toEqual(
      expect.arrayContaining([
        { configMapRef: { name: configMap.metadata.name } },
        { secretRef: { name: secret.metadata.name } },
      ]),
    );
    for (const key of [
      'JWT_SECRET',
      'DATABASE_URL',
      'REDIS_URL',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
    ]) {
      expect(Object.keys(secret.stringData)).toContain(key);
      expect(Object.keys(configMap.data)).not.toContain(key);
    }
    expectServerAccepts({ ...configMap.data, ...secret.stringData });
  });

  it('exposes the pods through a Service and an Ingress ready for WebSockets and big uploads', () => {
    const deployment = one('Deployment');
    const service = one('Service');
    const ingress = one('Ingress');
    expect(matches(service.spec.selector, deployment.spec.template.metadata.labels)).toBe(true);
    const servicePort = service.spec.ports.find((p: any) => p.name === 'http');
    expect(servicePort.targetPort).toBe('http');
    const backend = ingress.spec.rules[0].http.paths[0].backend.service;
    expect(backend.name).toBe(service.metadata.name);
    expect(backend.port.name).toBe(servicePort.name);
    const a = ingress.metadata.annotations;
    expect(a['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('0');
    expect(a['nginx.ingress.kubernetes.io/proxy-request-buffering']).toBe('off');
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(Number(a['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(3600);
    expect(a['nginx.org/websocket-services']).toBe(service.metadata.name);
  });

  it('keeps replicas up through voluntary disruptions and autoscaling', () => {
    const deployment = one('Deployment');
    const pdb = one('PodDisruptionBudget');
    expect(matches(pdb.spec.selector.matchLabels, deployment.spec.template.metadata.labels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBeLessThan(deployment.spec.replicas);
    const hpa = one('HorizontalPodAutoscaler');
    expect(hpa.spec.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: deployment.metadata.name });
    expect(hpa.spec.minReplicas).toBeGreaterThanOrEqual(2);
  });
});

describe('reverse proxy configuration (docker/scale/nginx.conf)', () => {
  const conf = readFileSync(join(root, 'docker/scale/nginx.conf'), 'utf8');
  it('upgrades WebSockets, streams unlimited uploads, balances over every replica', () => {
    expect(conf).toMatch(/map \$http_upgrade \$connection_upgrade/);
    expect(conf).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(conf).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
    expect(conf).toMatch(/client_max_body_size 0;/);
    expect(conf).toMatch(/proxy_request_buffering off;/);
    expect(conf).toMatch(/proxy_read_timeout 1h;/);
    expect(conf).toMatch(/resolver 127\.0\.0\.11/);
    expect(conf).toMatch(/proxy_pass \$elizabeth;/);
    expect(conf).toMatch(/listen 8080;/);
  });
});

describeWithService('nginx', binary('nginx', ['-v']), 'nginx accepts docker/scale/nginx.conf', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'elz-nginx-'));
  afterAll(() => rmSync(prefix, { recursive: true, force: true }));
  it('nginx -t', () => {
    // Real files as stdout/stderr: the config logs to /dev/stdout and /dev/stderr, which
    // cannot be opened on the socket pairs a piped child gets.
    const out = openSync(join(prefix, 'out.log'), 'w');
    const err = openSync(join(prefix, 'err.log'), 'w');
    const check = spawnSync('nginx', ['-t', '-c', join(root, 'docker/scale/nginx.conf'), '-p', prefix], {
      stdio: ['ignore', out, err],
    });
    closeSync(out);
    closeSync(err);
    expect(readFileSync(join(prefix, 'err.log'), 'utf8')).toMatch(/test is successful/);
    expect(check.status).toBe(0);
  });
});

describeWithService(
  'docker-compose',
  binary('docker-compose', ['version']),
  'docker-compose.scale.yml (docker-compose config)',
  () => {
    const secrets = {
      JWT_SECRET: 'j'.repeat(64),
      POSTGRES_PASSWORD: 'pg-secret',
      MINIO_ROOT_PASSWORD: 'minio-secret',
    };
    const config = (env: Record<string, string>) =>
      spawnSync('docker-compose', ['-f', 'docker-compose.scale.yml', 'config'], {
        cwd: root,
        encoding: 'utf8',
        // Only what is given: a developer's .env or shell must not change the result.
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
      });

    it('resolves: replicas behind the proxy, PostgreSQL, Redis, MinIO, all health-checked', () => {
      const result = config(secrets);
      expect(result.stderr).not.toMatch(/error/i);
      expect(result.status).toBe(0);
      const compose = parse(result.stdout);
      const services = compose.services;
      expect(Object.keys(services).sort()).toEqual([
        'backend',
        'minio',
        'minio-init',
        'postgres',
        'proxy',
        'redis',
      ]);
      for (const name of ['backend', 'minio', 'postgres', 'proxy', 'redis']) {
        expect(services[name].healthcheck?.test, name).toBeDefined();
      }

      const backend = services.backend;
      expect(backend.image).toBe('elizabeth-backend:latest');
      expect(backend.build.dockerfile).toBe('Dockerfile.backend');
      expect(backend.deploy.replicas).toBeGreaterThanOrEqual(2);
      expect(backend.container_name).toBeUndefined();
      expect(backend.ports).toBeUndefined();
      expect(backend.read_only).toBe(true);
      expect(backend.environment.JWT_SECRET).toBe(secrets.JWT_SECRET);
      expect(backend.environment.REDIS_URL).toBe('redis://redis:6379');
      expect(backend.environment.S3_ENDPOINT).toBe('http://minio:9000');
      expect(backend.environment.DATABASE_URL).toBe('postgres://elizabeth:pg-secret@postgres:5432/elizabeth');
      expect(Object.keys(backend.depends_on).sort()).toEqual(['minio-init', 'postgres', 'redis']);
      expectServerAccepts(backend.environment);

      const proxy = services.proxy;
      expect(proxy.ports).toHaveLength(1);
      expect(String(proxy.ports[0].target ?? proxy.ports[0])).toContain('8080');
      expect(
        proxy.volumes.map((v: any) => (typeof v === 'string' ? v : `${v.source}:${v.target}`)).join(),
      ).toMatch(/docker\/scale\/nginx\.conf:\/etc\/nginx\/nginx\.conf/);
      expect(proxy.depends_on.backend.condition).toBe('service_healthy');
    });

    it('refuses to start without the shared secrets', () => {
      const result = config({ POSTGRES_PASSWORD: 'x', MINIO_ROOT_PASSWORD: 'y' });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/JWT_SECRET/);
    });
  },
);

describe('GitHub Actions workflow (.github/workflows/ci.yml)', () => {
  const workflow = parse(readFileSync(join(root, '.github/workflows/ci.yml'), 'utf8'));
  const scripts = (
    JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  const runs = (job: string): string =>
    workflow.jobs[job].steps
      .map((s: any) => s.run ?? '')
      .filter(Boolean)
      .join('\n');

  it('has the lint, typecheck, test, browser and image jobs', () => {
    expect(Object.keys(workflow.jobs).sort()).toEqual(['browser', 'images', 'lint', 'test', 'typecheck']);
    expect(workflow.on.pull_request).toBeDefined();
    expect(workflow.on.push.tags).toContain('v*');
    expect(runs('lint')).toMatch(/npm run lint/);
    expect(runs('lint')).toMatch(/npm run format:check/);
    expect(runs('typecheck')).toMatch(/npm run typecheck/);
    // Every `npm run X` names a script that exists.
    for (const job of Object.keys(workflow.jobs)) {
      for (const [, script] of runs(job).matchAll(/npm run ([\w:-]+)/g))
        expect(scripts, job).toHaveProperty(script!);
    }
  });

  it('tests on PostgreSQL and Redis services with CI=true, and the browser suite on its own', () => {
    expect(workflow.env.CI).toBe('true');
    const test = workflow.jobs.test;
    expect(test.services.postgres.image).toMatch(/^postgres:/);
    expect(test.services.redis.image).toMatch(/^redis:/);
    expect(test.env.ELIZABETH_TEST_DATABASE_URL).toMatch(/^postgres:\/\//);
    expect(test.env.ELIZABETH_TEST_REDIS_URL).toMatch(/^redis:\/\//);
    expect(runs('test')).toMatch(/vitest run --exclude 'e2e\/\*\*'/);
    expect(runs('browser')).toMatch(/vitest run e2e/);
    expect(workflow.jobs.browser.env.ELIZABETH_TEST_CHROMIUM).toBeTruthy();
  });

  it('builds the backend and frontend images for amd64 and arm64 on version tags only', () => {
    const images = workflow.jobs.images;
    expect(images.if).toMatch(/refs\/tags\/v/);
    expect(images.needs).toEqual(expect.arrayContaining(['lint', 'typecheck', 'test', 'browser']));
    expect(images.strategy.matrix.include.map((m: any) => m.image).sort()).toEqual([
      'elizabeth-backend',
      'elizabeth-frontend',
    ]);
    const build = images.steps.find((s: any) => String(s.uses).startsWith('docker/build-push-action'));
    expect(build.with.platforms.split(',')).toEqual(['linux/amd64', 'linux/arm64']);
    expect(images.steps.some((s: any) => String(s.uses).startsWith('docker/setup-qemu-action'))).toBe(true);
  });
});
