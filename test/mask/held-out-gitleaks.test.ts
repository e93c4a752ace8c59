// Held-out examples for the formats marked by an infix or a suffix (issue 10): true and false
// positives taken from gitleaks' rule tests (cmd/generate/config/rules/{azure,hashicorp,maxmind}.go),
// never used to build or tune the rules or the independent corpus. Each true positive is masked
// whole (no 6-character run, no leading characters before the placeholder) masked as a whole text,
// streamed at every split point and one character at a time, inside a JSON string, and base64 in a
// Kubernetes Secret; each false positive passes unchanged.
import t from 'tap';
import { createMaskEngine } from '../../src/mask/index.js';

const engine = createMaskEngine();

/** [line, the secret in it] — gitleaks' TPs, and its sample secrets in its generated assignment shapes. */
const TPS: [string, string][] = [
  // azure-ad-client-secret
  ['client_secret=bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR', 'bP88Q~rcBcYjzzOhg1Hnn76Wm3jGgakZiZ.8vMgR'],
  ['client_secret: .IQ8Q~79R7TOWOspFnWcEG-dYt4KXqFqxK16cxr', '.IQ8Q~79R7TOWOspFnWcEG-dYt4KXqFqxK16cxr'],
  ['AUTH_CLIENTSECRET = _V28Q~IC8qxmlWNpHuDm34JlbKv9LXV5MvUR3a-P', '_V28Q~IC8qxmlWNpHuDm34JlbKv9LXV5MvUR3a-P'],
  ['<value xsi:type="xsd:string">~Gg8Q~nVhlLi2vpg_nXBGqFsbGK-t~Hus1JmTa0y</value>', '~Gg8Q~nVhlLi2vpg_nXBGqFsbGK-t~Hus1JmTa0y'],
  ['"CLIENT_SECRET": "YYz7Q~Sudoqwap1PnzEBA3zqBK~i5uesDIv.C"', 'YYz7Q~Sudoqwap1PnzEBA3zqBK~i5uesDIv.C'],
  [
    "Set-PSUAuthenticationMethod -Type 'OpenIDConnect' -CallbackPath '/auth/oidc' -ClientId 'fake' -ClientSecret '2Vq7Q~q5VgKljZ7cb3.0sp0Apz.vOjRIPyeTr'",
    '2Vq7Q~q5VgKljZ7cb3.0sp0Apz.vOjRIPyeTr',
  ],
  ['client-secret: "t028Q~-aLbmQuinnZtzbgtlEAYstnBWEmGPAoBm"', 't028Q~-aLbmQuinnZtzbgtlEAYstnBWEmGPAoBm'],
  ['"cas.authn.azure-active-directory.client-secret=qHF8Q~PCM5HhMoyTFc5TYEomnzR6Kim9UJhe8a.P",', 'qHF8Q~PCM5HhMoyTFc5TYEomnzR6Kim9UJhe8a.P'],
  ['"line": "client_srt = \\"qpF8Q~PCM5MhMoyTFc5TYEomnYRUKim9UJhe8a2P\\";",', 'qpF8Q~PCM5MhMoyTFc5TYEomnYRUKim9UJhe8a2P'],
  ["\"client_secret\":       acctest.Representation{RepType: acctest.Required, Create: 'dO29Q~F5-VwnW.lZdd11xFF_t5NAXCaGwDl9NbT1'},", 'dO29Q~F5-VwnW.lZdd11xFF_t5NAXCaGwDl9NbT1'],
  ['Example= GN.7Q~4AkLZBNEbz4Jxlm~O5G6SsyFxYg6zMR', 'GN.7Q~4AkLZBNEbz4Jxlm~O5G6SsyFxYg6zMR'],
  ['"the_value": "QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn"', 'QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn'],
  ['QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn', 'QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn'],
  ['(use the client secret: QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn)', 'QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn'],
  ['(QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn)', 'QtT8Q~9C-_Ij~RouHVpD2Tuf3oHWGh.DQ3kcjbAn'],
  // hashicorp-tf-api-token
  ['#token = "hE1hlYILrSqpqh.atlasv1.ARjZuyzl33F71WR55s6ln5GQ1HWIwTDDH3MiRjz7OnpCfaCb1RCF5zGaSncCWmJdcYA"', 'hE1hlYILrSqpqh.atlasv1.ARjZuyzl33F71WR55s6ln5GQ1HWIwTDDH3MiRjz7OnpCfaCb1RCF5zGaSncCWmJdcYA'],
  ['hashicorpToken := "3f9c2ab71d04e6.atlasv1.ZK3vTq8LmN2pXr7sYb4Hc9Wd1Fg6Jk0Ql5Ue8Ro3Ti2Ay7Sz4Dx1Cv6Bn9Mm0Pp2Ww"', '3f9c2ab71d04e6.atlasv1.ZK3vTq8LmN2pXr7sYb4Hc9Wd1Fg6Jk0Ql5Ue8Ro3Ti2Ay7Sz4Dx1Cv6Bn9Mm0Pp2Ww'],
  // maxmind-license-key: gitleaks' sample secret in the shapes its GenerateSampleSecrets writes
  ['maxmindToken = "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"', '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'],
  ["$maxmind .= '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';", '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'],
  ['<maxmind>\n    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\n</maxmind>', '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'],
  ['maxmind_token: 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', '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'],
  ['geoipupdate -v --license-key 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', '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'],
  ['The key 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 is in the README.', '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'],
];

/** gitleaks' false positives for the same rules. */
const FPS = [
  '![图源：《深入拆解Tomcat & Jetty》](https://p3-juejin.byteimg.com/tos-cn-i-k3u1fbpfcp/6a9e704af49b4380bb686f0c96d33b81~tplv-k3u1fbpfcp-watermark.image)',
  '~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~',
  '.ui.visible.right.sidebar~.ui.visible.left.sidebar~.pusher{transform:translate3d(0,0,0)}',
  'buf.WriteString("~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~\\n\\n::\\n\\n")',
  "'url': 'http://www.2doc.nl/speel~VARA_101375237~mh17-het-verdriet-van-nederland~.html',",
  "'#!/registries/5/portainer.demo~2Fportainerregistrytesting~2Falpine',",
  '+ "<Trust Comment=\\"\\" Identity=\\"USK@u2vn3Lh6Kte2-TgBSNKorbsKkuAt34ckoLmgx0ndXO0,4~q8Q~3wIHjX9DT0yCNfQmr9oxmYrDZoQVLOdNg~yk0,AQACAAE/WebOfTrustRC2/2\\" Value=\\"100\\"/>"',
  'client_secret=bP88Q~xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'token        = "xxxxxxxxxxxxxx.atlasv1.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
];

function stream(parts: string[]): string {
  const m = engine.session().stream();
  let out = '';
  for (const p of parts) out += m.push(p);
  return out + m.flush();
}

function leftOf(out: string, secret: string): string | null {
  const bare = out.replace(/\[MASKED:[^\]]*\]/g, '\u0000');
  for (let i = 0; i + 6 <= secret.length; i++) if (bare.includes(secret.slice(i, i + 6))) return secret.slice(i, i + 6);
  for (let k = 3; k < 24; k++) if (out.includes(secret.slice(0, k) + '[MASKED:')) return secret.slice(0, k) + '…';
  return null;
}

const k8s = (s: string) => `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\ndata:\n  value: ${Buffer.from(s).toString('base64')}\n`;

t.test('true positives are masked whole, whole or streamed, plain, JSON-escaped and base64', async (t) => {
  for (const [line, secret] of TPS) {
    const forms: [string, string, string][] = [
      ['plain', line, secret],
      ['json', JSON.stringify({ content: line }), JSON.stringify(secret).slice(1, -1)],
      ['k8s', k8s(secret), Buffer.from(secret).toString('base64')],
    ];
    for (const [form, text, spelled] of forms) {
      const whole = engine.session().maskText(text).text;
      t.equal(leftOf(whole, spelled), null, `${form}: ${line.slice(0, 60)}`);
      let bad = '';
      for (let k = 1; k < text.length && !bad; k++) if (stream([text.slice(0, k), text.slice(k)]) !== whole) bad = `split at ${k}`;
      if (!bad && stream([...text]) !== whole) bad = 'one character at a time';
      t.equal(bad, '', `${form}: streamed as whole: ${line.slice(0, 60)}`);
    }
  }
});

t.test('false positives pass unchanged, whole and streamed', async (t) => {
  for (const fp of FPS) {
    t.equal(engine.session().maskText(fp).text, fp, fp.slice(0, 70));
    t.equal(stream([...fp]), fp, `one character at a time: ${fp.slice(0, 60)}`);
  }
});
