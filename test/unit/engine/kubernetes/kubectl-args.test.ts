import { describe, expect, it } from 'vitest';
import {
  annotatePodsArgs,
  applyArgs,
  clientVersionArgs,
  deleteNamespaceArgs,
  deleteObjectsArgs,
  getJsonArgs,
  listNamesArgs,
  listOwnedArgs,
  rolloutStatusArgs,
  secretExistsArgs,
  targetArgs,
  tlsSecretArgs,
  versionArgs,
} from '../../../../src/engine/kubernetes/kubectl-args.js';
import { classifyKubectlFailure } from '../../../../src/engine/kubernetes/kubectl.js';
import { EngineCommandError, KubeUnreachableError } from '../../../../src/errors.js';

describe('kubectl argv', () => {
  it.each<[string, string[], string[]]>([
    ['no target', targetArgs({}), []],
    ['a kubeconfig and context', targetArgs({ kubeconfig: '/k/admin.conf', context: 'test' }), ['--kubeconfig', '/k/admin.conf', '--context', 'test']],
    ['version', versionArgs(), ['version', '--output', 'json', '--request-timeout=10s']],
    ['client version', clientVersionArgs(), ['version', '--client', '--output', 'json']],
    ['apply', applyArgs(), ['apply', '--server-side', '--force-conflicts', '--field-manager', 'podvoy', '--output', 'name', '--filename', '-']],
    [
      'a server dry run',
      applyArgs({ dryRun: true }),
      ['apply', '--server-side', '--force-conflicts', '--field-manager', 'podvoy', '--dry-run=server', '--output', 'name', '--filename', '-'],
    ],
    ['rollout status', rolloutStatusArgs('podvoy-mesh', 'blog', 12.2), ['rollout', 'status', 'deployment/blog', '--namespace', 'podvoy-mesh', '--timeout=13s']],
    ['rollout status at the deadline', rolloutStatusArgs('ns', 'api', 0), ['rollout', 'status', 'deployment/api', '--namespace', 'ns', '--timeout=1s']],
    ['get nodes', getJsonArgs('nodes'), ['get', 'nodes', '--output', 'json']],
    [
      'get pods by label',
      getJsonArgs('pods', 'ns', 'app.kubernetes.io/name=blog'),
      ['get', 'pods', '--namespace', 'ns', '--selector', 'app.kubernetes.io/name=blog', '--output', 'json'],
    ],
    ['list names', listNamesArgs('ns'), ['get', 'deployments,services,configmaps,secrets,poddisruptionbudgets,pods', '--namespace', 'ns', '--output', 'name']],
    [
      'list owned',
      listOwnedArgs('ns', 'app.kubernetes.io/part-of=mesh,app.kubernetes.io/managed-by=podvoy'),
      ['get', 'deployments,services,configmaps,secrets,poddisruptionbudgets', '--namespace', 'ns', '--selector', 'app.kubernetes.io/part-of=mesh,app.kubernetes.io/managed-by=podvoy', '--output', 'name'],
    ],
    ['delete objects', deleteObjectsArgs('ns', ['service/web-public']), ['delete', 'service/web-public', '--namespace', 'ns', '--ignore-not-found', '--wait=false']],
    ['secret exists', secretExistsArgs('ns', 'gateway-tls'), ['get', 'secret', 'gateway-tls', '--namespace', 'ns', '--ignore-not-found', '--output', 'name']],
    [
      'TLS secret',
      tlsSecretArgs('ns', 'gateway-tls', '/c.pem', '/k.pem'),
      ['create', 'secret', 'tls', 'gateway-tls', '--namespace', 'ns', '--cert', '/c.pem', '--key', '/k.pem', '--dry-run=client', '--output', 'json'],
    ],
    [
      'annotate pods',
      annotatePodsArgs('ns', 'app.kubernetes.io/instance=mesh,app.kubernetes.io/name=gateway', 'podvoy.io/mesh-hash', '0123'),
      ['annotate', 'pods', '--namespace', 'ns', '--selector', 'app.kubernetes.io/instance=mesh,app.kubernetes.io/name=gateway', '--overwrite', 'podvoy.io/mesh-hash=0123'],
    ],
    ['delete', deleteNamespaceArgs('podvoy-mesh', 120), ['delete', 'namespace', 'podvoy-mesh', '--ignore-not-found', '--wait=true', '--timeout=120s']],
  ])('%s', (_, argv, expected) => {
    expect(argv).toEqual(expected);
  });
});

describe('kubectl failures', () => {
  const result = (stderr: string) => ({ argv: ['kubectl', 'version'], exitCode: 1, stdout: '', stderr });

  it.each([
    ['The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?', 'connection refused'],
    ['Unable to connect to the server: dial tcp: lookup nowhere.invalid: no such host', 'Unable to connect to the server: dial tcp: lookup nowhere.invalid: no such host'],
  ])('an unreachable server is KubeUnreachableError (%s)', (stderr) => {
    const error = classifyKubectlFailure({ context: 'c1' }, result(stderr));
    expect(error).toBeInstanceOf(KubeUnreachableError);
    expect(error.message).toBe(`Cannot reach the cluster of context c1: ${stderr}. Nothing was applied. Start the cluster or fix the context's server address, then try again.`);
  });

  it('a missing context says how to list contexts', () => {
    const error = classifyKubectlFailure({ kubeconfig: '/k', context: 'nope' }, result('error: context was not found for specified context: nope'));
    expect(error.message).toBe(
      'Cannot reach the cluster of context nope of /k: error: context was not found for specified context: nope. Nothing was applied. ' +
        'Check --kubeconfig and --context (kubectl config get-contexts lists them).',
    );
  });

  it.each([
    ['error: You must be logged in to the server (Unauthorized)', "The cluster refuses these credentials. Check the kubeconfig's user, or get a fresh one from the cluster's admin."],
    ['Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo"', 'The cluster does not know a field podvoy set: it may be older than podvoy supports (1.30). This is a podvoy bug otherwise.'],
    ['something else went wrong', ''],
  ])('other failures keep argv, exit code and stderr, with a hint (%s)', (stderr, hint) => {
    const error = classifyKubectlFailure({}, result(stderr)) as EngineCommandError;
    expect(error).toBeInstanceOf(EngineCommandError);
    expect([error.argv, error.exitCode, error.stderr, error.hint]).toEqual([['kubectl', 'version'], 1, stderr, hint]);
  });
});
