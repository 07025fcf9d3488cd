import { PageHeader } from '../components/PageHeader';

export function Evidence() {
  return <PageHeader title="Evidence" lead="This page is being built." />;
}
