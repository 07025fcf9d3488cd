import { PageHeader } from '../components/PageHeader';

export function Approvals() {
  return <PageHeader title="Approvals" lead="This page is being built." />;
}
