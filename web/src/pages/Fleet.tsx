import { PageHeader } from '../components/PageHeader';

export function Fleet() {
  return <PageHeader title="Fleet" lead="This page is being built." />;
}
